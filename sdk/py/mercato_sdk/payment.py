"""Payment providers (the payment world of mercato:plugin@0.1.0).

Every request carries an idempotency key: the host may send the same
request again after a crash, and a provider must not charge twice for one
key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple, Union

from .errors import PluginError
from .money import Money
from .plugin import Plugin


@dataclass
class PaymentRequest:
    """A request to take a payment."""

    amount: Money
    #: The order the payment is for.
    order_reference: str
    #: Same key, same payment.
    idempotency_key: str
    #: A token from the provider's client-side library.
    payment_method_token: Optional[str] = None
    #: Capture at once (True) or only authorize.
    capture: bool = True
    email: Optional[str] = None


@dataclass
class CaptureRequest:
    """Capture an authorized payment."""

    provider_reference: str
    amount: Money
    idempotency_key: str


@dataclass
class RefundRequest:
    """Refund all or part of a captured payment."""

    provider_reference: str
    amount: Money
    idempotency_key: str
    reason: Optional[str] = None


@dataclass
class VoidRequest:
    """Cancel an uncaptured authorization."""

    provider_reference: str
    idempotency_key: str


@dataclass
class Webhook:
    """A provider callback as received."""

    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass
class NextAction:
    """What the buyer must do next."""

    client_secret: Optional[str] = None
    redirect_url: Optional[str] = None


@dataclass(frozen=True)
class Succeeded:
    """Authorized or captured, as requested."""


@dataclass(frozen=True)
class Pending:
    """Waiting for the provider or the merchant (e.g. a bank transfer)."""


@dataclass(frozen=True)
class RequiresAction:
    """The buyer must act (3-D Secure, a redirect)."""

    action: NextAction


@dataclass(frozen=True)
class Failed:
    """Declined, with the reason to show the buyer."""

    reason: str


#: Where a payment stands.
PaymentStatus = Union[Succeeded, Pending, RequiresAction, Failed]


@dataclass
class PaymentResult:
    """A provider's answer."""

    status: PaymentStatus
    #: The provider's id for the payment; stable across retries.
    provider_reference: str
    #: Instructions to show the buyer.
    message: Optional[str] = None


@dataclass
class PaymentEvent:
    """What a callback says about a payment."""

    provider_reference: str
    status: PaymentStatus
    amount: Optional[Money] = None


class Payment(Plugin):
    """A payment provider: derive from it and implement the methods."""

    point = "payment"

    def create_payment(self, config: Any, request: PaymentRequest) -> PaymentResult:
        """Authorizes (and, when asked, captures) a payment."""
        raise NotImplementedError

    def capture(self, config: Any, request: CaptureRequest) -> PaymentResult:
        """Captures an authorized payment."""
        raise NotImplementedError

    def refund(self, config: Any, request: RefundRequest) -> PaymentResult:
        """Refunds all or part of a captured payment."""
        raise NotImplementedError

    def void(self, config: Any, request: VoidRequest) -> PaymentResult:
        """Cancels an authorization that was not captured."""
        raise NotImplementedError

    def parse_webhook(self, config: Any, hook: Webhook) -> PaymentEvent:
        """Turns a provider callback into an event; this provider sends none by default."""
        raise PluginError.unsupported("this provider sends no webhooks")
