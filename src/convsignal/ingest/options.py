"""Options every reader receives."""

from __future__ import annotations

from dataclasses import dataclass

from convsignal.domain import Role
from convsignal.ingest.accounts import AccountMap


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """`internal_domains`: your company's email domains; their people are vendor-side.
    `account_map`: export org ids and customer email domains → account (`--account-map`).
    `csv_columns`: (field, column header) pairs overriding the generic CSV's column guesses.
    """

    internal_domains: tuple[str, ...] = ()
    account_map: AccountMap | None = None
    csv_columns: tuple[tuple[str, str], ...] = ()

    def is_internal(self, email: str | None) -> bool:
        if not email or "@" not in email:
            return False
        domain = email.rsplit("@", 1)[1].strip().lower().rstrip(">")
        return any(
            domain == d.lower() or domain.endswith("." + d.lower()) for d in self.internal_domains
        )

    def role_for_email(self, email: str | None) -> Role:
        if not email or "@" not in email:
            return Role.UNKNOWN
        return Role.VENDOR if self.is_internal(email) else Role.CUSTOMER

    def side(self, email: str | None, hint: Role | None = None) -> Role:
        """The export's own hint (Gong affiliation, Zendesk agent, Intercom admin) wins over
        the email domain, except that an internal domain always means vendor."""
        if self.is_internal(email):
            return Role.VENDOR
        if hint is not None and hint is not Role.UNKNOWN:
            return hint
        return self.role_for_email(email)
