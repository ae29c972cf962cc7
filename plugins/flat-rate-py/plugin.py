"""One shipping price for every parcel, free above a cart subtotal: the
Python port of the flat-rate plugin, for the shipping world of
mercato:plugin@0.1.0."""

from dataclasses import dataclass
from typing import List, Optional

from mercato_sdk import Money, PluginError
from mercato_sdk.shipping import RateOption, Shipping, ShippingInput, ShippingOutput


@dataclass
class Config:
    """The merchant's flat rate; amounts are minor units of the cart currency."""

    amount: int
    free_over: Optional[int]
    code: str
    label: str
    carrier: str
    min_days: Optional[int]
    max_days: Optional[int]
    countries: Optional[List[str]]


def _ascii_upper(s: str) -> str:
    return "".join(c.upper() if "a" <= c <= "z" else c for c in s)


class FlatRate(Shipping):
    config_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Flat rate shipping",
        "description": "One shipping price for every parcel, free when the cart subtotal reaches a threshold.",
        "type": "object",
        "required": ["amount"],
        "additionalProperties": False,
        "properties": {
            "amount": {
                "title": "Price",
                "description": "Price in minor units of the cart currency (499 = 4.99 USD).",
                "type": "integer",
                "minimum": 0,
                "maximum": 9223372036854775807,
                "examples": [499, 590],
            },
            "free_over": {
                "title": "Free from",
                "description": "Free when the cart subtotal is at least this, in minor units.",
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 9223372036854775807,
                "examples": [5000],
            },
            "code": {
                "title": "Option code",
                "description": "Identifies the option in the answer.",
                "type": "string",
                "minLength": 1,
                "default": "flat",
                "examples": ["flat", "standard"],
            },
            "label": {
                "title": "Service name",
                "description": "Service name shown to the buyer.",
                "type": "string",
                "default": "Standard",
                "examples": ["Standard", "Ground"],
            },
            "carrier": {
                "title": "Carrier",
                "description": "Carrier name shown to the buyer.",
                "type": "string",
                "default": "Flat rate",
                "examples": ["Post", "USPS"],
            },
            "min_days": {
                "title": "Earliest delivery",
                "description": "Earliest delivery, in days.",
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 4294967295,
                "examples": [3],
            },
            "max_days": {
                "title": "Latest delivery",
                "description": "Latest delivery, in days; not less than min_days.",
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 4294967295,
                "examples": [5],
            },
            "countries": {
                "title": "Countries",
                "description": "ISO 3166-1 codes shipped to; everywhere when absent.",
                "type": ["array", "null"],
                "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "minItems": 1,
                "examples": [["US", "CA"]],
            },
        },
    }

    def load_config(self, c: dict) -> Config:
        min_days, max_days = c.get("min_days"), c.get("max_days")
        if min_days is not None and max_days is not None and min_days > max_days:
            raise PluginError.invalid_config(f"min_days ({min_days}) is more than max_days ({max_days})")
        return Config(
            amount=c["amount"],
            free_over=c.get("free_over"),
            code=c["code"],
            label=c["label"],
            carrier=c["carrier"],
            min_days=min_days,
            max_days=max_days,
            countries=c.get("countries"),
        )

    def rates(self, config: Config, input: ShippingInput) -> ShippingOutput:
        destination = _ascii_upper(input.destination.country.strip())
        if config.countries is not None and not any(_ascii_upper(c) == destination for c in config.countries):
            return ShippingOutput([])
        free = config.free_over is not None and input.subtotal.amount >= config.free_over
        option = RateOption(
            code=config.code,
            carrier=config.carrier,
            service=config.label,
            amount=Money(0 if free else config.amount, input.currency),
            min_days=config.min_days,
            max_days=config.max_days,
        )
        return ShippingOutput([option])


PLUGIN = FlatRate()
