"""Extraction: scrubbed conversations → validated signals.

Extractors are resolved by name through `registry.resolve`; the offline `lexicon` extractor
is always available, LLM providers live in `extract/providers/` (the only place that imports
instructor and the SDKs).
"""
