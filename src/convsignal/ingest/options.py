"""Options every reader receives."""

from __future__ import annotations

from dataclasses import dataclass

from convsignal.domain import Role


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """`internal_domains`: your company's email domains; their people are vendor-side."""

    internal_domains: tuple[str, ...] = ()

    def role_for_email(self, email: str | None) -> Role:
        if not email or "@" not in email:
            return Role.UNKNOWN
        domain = email.rsplit("@", 1)[1].lower()
        internal = any(
            domain == d.lower() or domain.endswith("." + d.lower()) for d in self.internal_domains
        )
        return Role.VENDOR if internal else Role.CUSTOMER
