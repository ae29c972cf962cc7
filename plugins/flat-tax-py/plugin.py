"""One tax rate on every line and on shipping: the Python port of the
flat-tax plugin, for the tax world of mercato:plugin@0.2.0."""

from dataclasses import dataclass

from mercato_sdk import Rate
from mercato_sdk.tax import Tax, TaxInput, TaxOutput


@dataclass
class Config:
    rate: Rate
    label: str


class FlatTax(Tax):
    config_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Flat tax",
        "description": "One tax rate on every line and on shipping, in the jurisdiction of the destination country.",
        "type": "object",
        "required": ["rate"],
        "properties": {
            "rate": {
                "title": "Rate",
                "description": 'The tax rate: a decimal fraction ("0.0725") or a percentage ("7.25%"), between 0 and 1.',
                "type": ["string", "number"],
                "examples": ["0.1", "7.25%", "0.19"],
            },
            "label": {
                "title": "Label",
                "description": 'Shown to the buyer next to the tax amount; "Tax" when unset.',
                "type": ["string", "null"],
                "examples": ["Sales tax", "VAT"],
            },
        },
    }

    def load_config(self, config: dict) -> Config:
        label = config.get("label")
        return Config(Rate.from_json(config["rate"]), "Tax" if label is None else label)

    def calculate(self, config: Config, input: TaxInput) -> TaxOutput:
        out = TaxOutput()
        tax = out.rate(input.ship_to.country, config.rate, config.label)
        out.tax_every_line(input, tax)
        out.tax_shipping(input, tax, input.shipping_amount)
        return out


PLUGIN = FlatTax()
