"""convsignal: customer conversations → PII-free, explainable customer-health scores."""

__version__ = "0.1.0"
