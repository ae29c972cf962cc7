// A stand-in for Stripe.js v3, served by the fake Stripe at /v3/: the part
// of its API a card form uses, so a storefront's Stripe Elements code runs
// offline against the fake's PaymentIntents.
//
//   const stripe = Stripe("pk_…");
//   const card = stripe.elements().create("card");
//   card.mount("#card");                       // a card number field
//   const {paymentMethod, error} = await stripe.createPaymentMethod({type: "card", card});
//
// Stripe's test card numbers become the fake's test payment methods; any
// other number is an `invalid_number` error, as Stripe.js reports it.
// Real Stripe.js draws the field in its own frame; this one is a plain input.
(function () {
  "use strict";
  const CARDS = {
    "4242424242424242": "pm_card_visa",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000002760003184": "pm_card_threeDSecure2Required",
  };

  function cardElement() {
    const input = document.createElement("input");
    input.type = "text";
    input.inputMode = "numeric";
    input.autocomplete = "cc-number";
    input.placeholder = "1234 1234 1234 1234";
    input.setAttribute("aria-label", "Card number");
    input.className = "StripeElement";
    const handlers = {};
    input.addEventListener("input", () => {
      const digits = input.value.replace(/\D/g, "");
      (handlers.change || []).forEach((cb) => cb({ elementType: "card", empty: !digits, complete: digits.length >= 16 }));
    });
    return {
      mount(target) {
        const el = typeof target === "string" ? document.querySelector(target) : target;
        el.append(input);
      },
      on(event, cb) {
        (handlers[event] = handlers[event] || []).push(cb);
      },
      focus() {
        input.focus();
      },
      clear() {
        input.value = "";
      },
      destroy() {
        input.remove();
      },
      _number: () => input.value.replace(/\s/g, ""),
    };
  }

  window.Stripe = function Stripe(key) {
    if (typeof key !== "string" || !key.startsWith("pk_")) {
      throw new Error("Stripe(): a publishable key (pk_…) is required");
    }
    return {
      elements() {
        return {
          create(type) {
            if (type !== "card") throw new Error(`this stand-in offers only the card element, not ${type}`);
            return cardElement();
          },
        };
      },
      async createPaymentMethod(options) {
        const card = options && options.card;
        if (!card || !card._number) {
          return { error: { type: "validation_error", code: "incomplete_number", message: "Your card number is incomplete." } };
        }
        const number = card._number();
        if (number.length < 16) {
          return { error: { type: "validation_error", code: "incomplete_number", message: "Your card number is incomplete." } };
        }
        const id = CARDS[number];
        if (!id) return { error: { type: "validation_error", code: "invalid_number", message: "Your card number is invalid." } };
        return { paymentMethod: { id, object: "payment_method", type: "card" } };
      },
      async handleNextAction() {
        return { error: { type: "invalid_request_error", message: "3-D Secure is not simulated by this stand-in." } };
      },
    };
  };
})();
