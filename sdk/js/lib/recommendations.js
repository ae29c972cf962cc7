// Product recommendations (mercato:plugin@0.1.0 recommendations world).
// A failing recommender yields an empty list.

import { customerIn, moneyIn } from './types.js';

/**
 * A product as recommenders see it.
 * @typedef {object} Product
 * @property {string} id
 * @property {string} title
 * @property {string[]} categoryIds categories it is in
 * @property {string[]} tags
 * @property {import('./money.js').Money} price lowest variant price
 * @property {boolean} available active and in stock
 */

/**
 * A product with a count (co-purchases or units sold).
 * @typedef {object} ProductCount
 * @property {string} productId
 * @property {number} count
 */

/**
 * What a recommender is asked.
 * @typedef {object} Context
 * @property {string} [productId] the product being viewed
 * @property {string[]} cartProductIds products already in the cart
 * @property {import('./types.js').Customer} [customer]
 * @property {number} limit at most this many
 */

/**
 * One recommended product.
 * @typedef {object} Recommendation
 * @property {string} productId
 * @property {string} reason shown to the buyer, e.g. `"Often bought together"`
 */

function productIn(p) {
  return {
    id: p.id,
    title: p.title,
    categoryIds: p.categoryIds,
    tags: p.tags,
    price: moneyIn(p.price),
    available: p.available,
  };
}

/**
 * Read-only, merchant-scoped catalog data: the host's
 * `mercato:plugin/catalog` import.
 */
export class Catalog {
  /**
   * @param {{getProduct: Function, boughtTogether: Function, bestsellers: Function}} imports
   *   the catalog interface's functions (WIT shapes)
   */
  constructor(imports) {
    this.imports = imports;
  }

  /**
   * One product, or `undefined`.
   * @returns {Product|undefined}
   */
  product(id) {
    const p = this.imports.getProduct(id);
    return p === undefined || p === null ? undefined : productIn(p);
  }

  /**
   * Products most often bought with `productId`, most first.
   * @returns {ProductCount[]}
   */
  boughtTogether(productId, limit) {
    return this.imports.boughtTogether(productId, limit);
  }

  /**
   * Best sellers by units, optionally in one category, most first.
   * @param {string|undefined} categoryId
   * @param {number} limit
   * @returns {ProductCount[]}
   */
  bestsellers(categoryId, limit) {
    return this.imports.bestsellers(categoryId ?? undefined, limit);
  }
}

/** The component's `context` record as a {@link Context}. */
export function contextIn(c) {
  return {
    productId: c.productId ?? undefined,
    cartProductIds: c.cartProductIds,
    customer: c.customer ? customerIn(c.customer) : undefined,
    limit: c.limit,
  };
}

/** A recommender's answer as the component's `list<recommendation>`. */
export function recommendationsOut(list) {
  if (!Array.isArray(list)) throw new TypeError('recommend must return a list of {productId, reason}');
  return list.map((r) => ({ productId: r.productId, reason: r.reason }));
}

/**
 * Catalog data held in memory, in the WIT shapes the catalog import
 * answers with: what fixtures give a recommender.
 */
export class CatalogData {
  /**
   * @param {object} data
   * @param {Array<object>} [data.products] WIT `product` records
   * @param {Object<string, ProductCount[]>} [data.boughtTogether] product id -> products bought with it, most first
   * @param {ProductCount[]} [data.bestsellers] best sellers over the whole catalog, most first
   */
  constructor({ products = [], boughtTogether = {}, bestsellers = [] } = {}) {
    this.products = products;
    this.together = boughtTogether;
    this.best = bestsellers;
  }

  /** The catalog interface's functions, answering from this data. */
  imports() {
    return {
      getProduct: (id) => this.products.find((p) => p.id === id),
      boughtTogether: (productId, limit) => (this.together[productId] || []).slice(0, limit),
      bestsellers: (categoryId, limit) =>
        this.best
          .filter((c) => categoryId === undefined || categoryId === null || this.products.some((p) => p.id === c.productId && p.categoryIds.includes(categoryId)))
          .slice(0, limit),
    };
  }
}

