// Payment providers (mercato:plugin@0.1.0 payment world).
//
// Every request carries an idempotency key: the host may send the same
// request again after a crash, and a provider must not charge twice for one
// key. A payment plugin may call its provider with `fetch`, only to hosts
// the operator allowed for the binding.

import { PluginError } from './errors.js';
import { moneyIn, moneyOut } from './types.js';

/**
 * A request to take a payment.
 * @typedef {object} PaymentRequest
 * @property {import('./money.js').Money} amount
 * @property {string} orderReference the order the payment is for
 * @property {string} [paymentMethodToken] a token from the provider's client-side library
 * @property {string} idempotencyKey same key, same payment
 * @property {boolean} capture capture at once (true) or only authorize
 * @property {string} [email] the buyer's email
 */

/**
 * Capture an authorized payment.
 * @typedef {object} CaptureRequest
 * @property {string} providerReference
 * @property {import('./money.js').Money} amount
 * @property {string} idempotencyKey
 */

/**
 * Refund a captured payment.
 * @typedef {object} RefundRequest
 * @property {string} providerReference
 * @property {import('./money.js').Money} amount
 * @property {string} idempotencyKey
 * @property {string} [reason]
 */

/**
 * Cancel an uncaptured authorization.
 * @typedef {object} VoidRequest
 * @property {string} providerReference
 * @property {string} idempotencyKey
 */

/**
 * A provider callback as received.
 * @typedef {object} Webhook
 * @property {Array<[string, string]>} headers header names and values
 * @property {Uint8Array} body the raw body
 */

/**
 * Where a payment stands, as the WIT variant spells it.
 * @typedef {{tag: 'succeeded'}|{tag: 'requires-action', val: {clientSecret?: string, redirectUrl?: string}}|{tag: 'pending'}|{tag: 'failed', val: string}} PaymentStatus
 */

/** Builders of {@link PaymentStatus}es. */
export const Status = Object.freeze({
  /** Authorized or captured, as requested. */
  succeeded: Object.freeze({ tag: 'succeeded' }),
  /** Waiting for the provider or the merchant (e.g. a bank transfer). */
  pending: Object.freeze({ tag: 'pending' }),
  /** Declined, with the reason to show the buyer. */
  failed: (reason) => ({ tag: 'failed', val: reason }),
  /** The buyer must act (3-D Secure, a redirect). */
  requiresAction: ({ clientSecret, redirectUrl } = {}) => ({ tag: 'requires-action', val: { clientSecret, redirectUrl } }),
});

/**
 * A provider's answer.
 * @typedef {object} PaymentResult
 * @property {PaymentStatus} status
 * @property {string} providerReference the provider's id for the payment; stable across retries
 * @property {string} [message] instructions to show the buyer
 */

/**
 * What a callback says about a payment.
 * @typedef {object} PaymentEvent
 * @property {string} providerReference
 * @property {PaymentStatus} status
 * @property {import('./money.js').Money} [amount]
 */

/** The default `parseWebhook`: this provider sends none. */
export function noWebhooks() {
  throw PluginError.unsupported('this provider sends no webhooks');
}

export function paymentRequestIn(r) {
  return { ...r, amount: moneyIn(r.amount) };
}

export function captureRequestIn(r) {
  return { ...r, amount: moneyIn(r.amount) };
}

export function refundRequestIn(r) {
  return { ...r, amount: moneyIn(r.amount) };
}

export function voidRequestIn(r) {
  return { ...r };
}

export function webhookIn(h) {
  return { headers: h.headers, body: h.body };
}

function statusOut(s) {
  switch (s && s.tag) {
    case 'succeeded':
    case 'pending':
      return { tag: s.tag };
    case 'failed':
      return { tag: 'failed', val: String(s.val) };
    case 'requires-action':
      return { tag: 'requires-action', val: { clientSecret: s.val?.clientSecret ?? undefined, redirectUrl: s.val?.redirectUrl ?? undefined } };
    default:
      throw new TypeError(`not a payment status: ${JSON.stringify(s)}`);
  }
}

/** A {@link PaymentResult} as the component's `payment-result` record. */
export function paymentResultOut(r) {
  if (r === null || typeof r !== 'object') throw new TypeError('a payment function must return a PaymentResult');
  return { status: statusOut(r.status), providerReference: r.providerReference, message: r.message ?? undefined };
}

/** A {@link PaymentEvent} as the component's `payment-event` record. */
export function paymentEventOut(e, currency) {
  if (e === null || typeof e !== 'object') throw new TypeError('parseWebhook must return a PaymentEvent');
  return {
    providerReference: e.providerReference,
    status: statusOut(e.status),
    amount: e.amount === undefined || e.amount === null ? undefined : moneyOut(e.amount, currency),
  };
}
