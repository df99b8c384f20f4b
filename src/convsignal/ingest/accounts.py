"""Which account a conversation belongs to.

Order: an account the export states outright (plain-text header, sidecar, CSV column) →
one of the export's own org ids (`Conversation.org_ids`) found in the mapping file →
the email domain of its customer-side people found in the mapping file. A conversation
that maps to none becomes an `UnmappedConversation` error: counted, listed by id and kept
as a dead letter (stage "unmapped") so it is re-run once the mapping is fixed.

Mapping file, CSV (one row per key or per account; lists split on `;`, `|` or spaces):

    account_id,account_name,domains,org_ids
    northwind-logistics,Northwind Logistics,northwind.com;northwind.co.uk,zendesk:360012345

or YAML:

    accounts:
      northwind-logistics:
        name: Northwind Logistics
        domains: [northwind.com]
        org_ids: ["zendesk:360012345", "salesforce:0015g00000AbCdE"]

An org id is `system:id` (`zendesk:`, `freshdesk:`, `salesforce:`, `hubspot:`…); a bare id
matches that id from any system.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from convsignal.domain import Conversation, Role
from convsignal.errors import IngestError
from convsignal.ingest.text_io import read_text

_SPLIT = re.compile(r"[;|\s]+")


class UnmappedConversation(IngestError):
    """A conversation read fine but mapped to no account. `content_hash` is its hash with
    no account (`retry_key`), so the dead letter resolves when a later run maps it."""

    def __init__(self, conversation: Conversation, *, domains: int) -> None:
        self.source_id = conversation.source_id
        self.content_hash = retry_key(conversation)
        tried = ", ".join(conversation.org_ids) or "none"
        super().__init__(
            f"conversation {conversation.source_id} maps to no account (org ids: {tried}; "
            f"customer email domains tried: {domains}); add one to --account-map and run again",
            path=conversation.locator.file,
            record=conversation.locator.record or conversation.source_id,
        )


def retry_key(conversation: Conversation) -> str:
    """The content hash of the conversation with no account: what an unmapped dead letter
    is keyed by, and what a later, mapped run of the same input resolves."""
    return replace(conversation, account_id="").content_hash


@dataclass(frozen=True, slots=True)
class AccountMap:
    accounts: dict[str, str | None] = field(default_factory=dict)  # account id → name
    by_org_id: dict[str, str] = field(default_factory=dict)
    by_domain: dict[str, str] = field(default_factory=dict)

    def for_org_id(self, org_id: str) -> str | None:
        found = self.by_org_id.get(org_id)
        if found is None and ":" in org_id:
            found = self.by_org_id.get(org_id.split(":", 1)[1])
        return found

    def for_domain(self, domain: str) -> str | None:
        parts = domain.lower().strip(".").split(".")
        for start in range(len(parts) - 1):  # eu.acme.com, then acme.com
            found = self.by_domain.get(".".join(parts[start:]))
            if found is not None:
                return found
        return None


def assign_account(
    conversation: Conversation,
    account_map: AccountMap | None,
    is_internal: Callable[[str], bool],
) -> Conversation | UnmappedConversation:
    """`is_internal(email) -> bool`: people of your own domains never decide the account."""
    mapping = account_map or AccountMap()
    if conversation.account_id:
        return _named(conversation, mapping, conversation.account_id)
    for org_id in conversation.org_ids:
        found = mapping.for_org_id(org_id)
        if found is not None:
            return _named(conversation, mapping, found)
    domains = _customer_domains(conversation, is_internal)
    votes = Counter(
        account for account in (mapping.for_domain(d) for d in domains) if account is not None
    )
    if votes:
        return _named(conversation, mapping, votes.most_common(1)[0][0])
    return UnmappedConversation(conversation, domains=len(set(domains)))


def _named(conversation: Conversation, mapping: AccountMap, account_id: str) -> Conversation:
    name = conversation.account_name or mapping.accounts.get(account_id)
    return replace(conversation, account_id=account_id, account_name=name)


def _customer_domains(conversation: Conversation, is_internal: Callable[[str], bool]) -> list[str]:
    domains = []
    for person in conversation.participants:
        email = person.email or ""
        if "@" in email and person.role is not Role.VENDOR and not is_internal(email):
            domains.append(email.rsplit("@", 1)[1].strip().lower().rstrip(">"))
    return domains


def load_account_map(path: Path) -> AccountMap:
    """Read a CSV or YAML mapping file; a bad row raises an error naming file and line."""
    text = read_text(path)
    builder = _Builder(str(path))
    if path.suffix.lower() in {".yaml", ".yml"}:
        _load_yaml(builder, text)
    else:
        _load_csv(builder, text)
    return AccountMap(builder.accounts, builder.by_org_id, builder.by_domain)


@dataclass
class _Builder:
    path: str
    accounts: dict[str, str | None] = field(default_factory=dict)
    by_org_id: dict[str, str] = field(default_factory=dict)
    by_domain: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        account: Any,
        name: Any,
        domains: Iterable[str],
        org_ids: Iterable[str],
        record: str,
    ) -> None:
        account_id = str(account or "").strip()
        if not account_id:
            raise IngestError("entry has no account id", path=self.path, record=record)
        if name or account_id not in self.accounts:
            self.accounts[account_id] = str(name).strip() if name else None
        for domain in domains:
            self._put(self.by_domain, domain.strip().lower().lstrip("@"), account_id, record)
        for org_id in org_ids:
            system, sep, ident = org_id.strip().partition(":")
            key = f"{system.lower()}:{ident}" if sep else system
            self._put(self.by_org_id, key, account_id, record)

    def _put(self, table: dict[str, str], key: str, account_id: str, record: str) -> None:
        if not key:
            return
        if table.get(key, account_id) != account_id:
            raise IngestError(
                f"{key!r} is mapped to two accounts ({table[key]!r} and {account_id!r})",
                path=self.path,
                record=record,
            )
        table[key] = account_id


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v).strip()]
    return [v for v in _SPLIT.split(str(value or "")) if v]


def _load_csv(builder: _Builder, text: str) -> None:
    reader = csv.DictReader(text.splitlines())
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    account_col = columns.get("account_id") or columns.get("account")
    if account_col is None:
        raise IngestError("missing column 'account_id'", path=builder.path, record="line 1")

    def cell(row: dict[str, str], *names: str) -> list[str]:
        return [v for n in names if n in columns for v in _values(row.get(columns[n]))]

    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        builder.add(
            row.get(account_col),
            (row.get(columns["account_name"]) if "account_name" in columns else None),
            cell(row, "domain", "domains", "email_domain"),
            cell(row, "org_id", "org_ids", "external_id"),
            f"line {line}",
        )


def _load_yaml(builder: _Builder, text: str) -> None:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise IngestError("not valid YAML", path=builder.path, record=where) from None
    entries = data.get("accounts", data) if isinstance(data, dict) else data
    if isinstance(entries, dict):
        entries = [
            {"id": key, **(value if isinstance(value, dict) else {"name": value})}
            for key, value in entries.items()
        ]
    if not isinstance(entries, list):
        raise IngestError("expected 'accounts:' with a list or mapping", path=builder.path)
    for index, entry in enumerate(entries):
        record = f"accounts[{index}]"
        if not isinstance(entry, dict):
            raise IngestError("entry must be a mapping", path=builder.path, record=record)
        builder.add(
            entry.get("id") or entry.get("account_id"),
            entry.get("name") or entry.get("account_name"),
            _values(entry.get("domains") or entry.get("domain")),
            _values(entry.get("org_ids") or entry.get("org_id")),
            record,
        )
