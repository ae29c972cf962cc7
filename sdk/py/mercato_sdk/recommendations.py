"""Product recommendations (the recommendations world of
mercato:plugin@0.1.0). A failing recommender yields an empty list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol

from .money import Money
from .plugin import Plugin
from .types import Customer


@dataclass
class Product:
    """A product as recommenders see it."""

    id: str
    title: str
    #: Lowest variant price.
    price: Money
    #: Categories it is in.
    category_ids: List[str] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    #: Active and in stock.
    available: bool = True


@dataclass
class ProductCount:
    """A product with a count (co-purchases or units sold)."""

    product_id: str
    count: int


@dataclass
class Context:
    """What a recommender is asked."""

    #: At most this many.
    limit: int
    #: The product being viewed.
    product_id: Optional[str] = None
    #: Products already in the cart.
    cart_product_ids: List[str] = field(default_factory=list)
    customer: Optional[Customer] = None


@dataclass
class Recommendation:
    """One recommended product."""

    product_id: str
    #: Shown to the buyer, e.g. ``"Often bought together"``.
    reason: str


class Catalog(Protocol):
    """Read-only, merchant-scoped catalog data (the host's ``mercato:plugin/catalog`` import)."""

    def product(self, id: str) -> Optional[Product]:
        """One product."""

    def bought_together(self, product_id: str, limit: int) -> List[ProductCount]:
        """Products most often bought with ``product_id``, most first."""

    def bestsellers(self, category_id: Optional[str], limit: int) -> List[ProductCount]:
        """Best sellers by units, optionally in one category, most first."""


@dataclass
class CatalogData:
    """Catalog data held in memory: what fixtures give a recommender."""

    products: List[Product] = field(default_factory=list)
    #: Product id -> products bought with it, most first.
    bought_together_by_product: Dict[str, List[ProductCount]] = field(default_factory=dict)
    #: Best sellers over the whole catalog, most first.
    bestseller_list: List[ProductCount] = field(default_factory=list)

    def product(self, id: str) -> Optional[Product]:
        return next((p for p in self.products if p.id == id), None)

    def bought_together(self, product_id: str, limit: int) -> List[ProductCount]:
        return list(self.bought_together_by_product.get(product_id, []))[:limit]

    def bestsellers(self, category_id: Optional[str], limit: int) -> List[ProductCount]:
        def in_category(c: ProductCount) -> bool:
            return category_id is None or any(
                p.id == c.product_id and category_id in p.category_ids for p in self.products
            )

        return [c for c in self.bestseller_list if in_category(c)][:limit]


class Recommendations(Plugin):
    """A recommender: derive from it and implement :meth:`recommend`."""

    point = "recommendations"

    def recommend(self, config: Any, context: Context, catalog: Catalog) -> List[Recommendation]:
        """Ranks products for a context, best first."""
        raise NotImplementedError
