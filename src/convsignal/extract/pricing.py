"""Token usage → dollars, from a small editable price table (`prices.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from convsignal.domain import TokenUsage
from convsignal.errors import ConfigError

DEFAULT_PRICES = Path(__file__).with_name("prices.yaml")
PER = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


@dataclass(frozen=True, slots=True)
class PriceTable:
    models: dict[str, Price]
    batch_discount: float = 0.5

    def price_for(self, extractor_id: str) -> Price | None:
        matches = [prefix for prefix in self.models if extractor_id.startswith(prefix)]
        return self.models[max(matches, key=len)] if matches else None

    def cost(self, extractor_id: str, usage: TokenUsage, *, batch: bool = False) -> float | None:
        """Dollars for `usage`, or None when the model is not in the table.

        Anthropic reports cache reads/writes apart from `input_tokens`; OpenAI counts cached
        tokens inside `prompt_tokens`, so they are billed at the cache rate and not twice.
        """
        price = self.price_for(extractor_id)
        if price is None:
            return None
        uncached = usage.input_tokens
        if extractor_id.startswith("openai"):
            uncached = max(0, usage.input_tokens - usage.cache_read_tokens)
        dollars = (
            uncached * price.input
            + usage.output_tokens * price.output
            + usage.cache_read_tokens * price.cache_read
            + usage.cache_write_tokens * price.cache_write
        ) / PER
        return dollars * (self.batch_discount if batch else 1.0)


@cache
def load_prices(path: Path = DEFAULT_PRICES) -> PriceTable:
    try:
        data = yaml.safe_load(path.read_bytes())
        models = {str(name): Price(**values) for name, values in data["models"].items()}
        return PriceTable(models, float(data.get("batch_discount", 0.5)))
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: invalid price table ({type(exc).__name__}: {exc})") from None
