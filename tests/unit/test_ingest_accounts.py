"""Account mapping: the file formats, the order of evidence, and unmapped conversations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest import AccountMap, UnmappedConversation, load_account_map, retry_key
from convsignal.ingest.accounts import assign_account
from tests.unit.ingest_helpers import FIXTURES

MAP = load_account_map(FIXTURES / "maps" / "account-map.yaml")


def conversation(
    *, account: str = "", org_ids: tuple[str, ...] = (), emails: tuple[str, ...] = ()
) -> Conversation:
    people = tuple(Participant(e.split("@")[0], Role.UNKNOWN, e) for e in emails)
    return Conversation(
        source_id="c-1",
        account_id=account,
        channel=Channel.TICKET,
        occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
        participants=people,
        turns=(Turn("a", "Secret words of the customer"),),
        locator=SourceLocator("zendesk", "export.json", "$.tickets[0] (ticket c-1)"),
        org_ids=org_ids,
    )


def internal(email: str) -> bool:
    return email.endswith("@brightmetrics.io")


def test_csv_and_yaml_maps_are_the_same_map() -> None:
    assert load_account_map(FIXTURES / "maps" / "account-map.csv") == MAP
    assert MAP.accounts["northwind-logistics"] == "Northwind Logistics"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"account": "stated-in-export", "org_ids": ("zendesk:360011112222",)}, "stated-in-export"),
        ({"org_ids": ("zendesk:360011112222",), "emails": ("x@ferrox.io",)}, "northwind-logistics"),
        ({"org_ids": ("salesforce:0015g00000NwLgQAAV",)}, "northwind-logistics"),
        ({"org_ids": ("hubspot:48000123456",)}, None),  # system-qualified ids do not cross
        ({"emails": ("dana@northwind.com",)}, "northwind-logistics"),
        ({"emails": ("dana@eu.northwind.com",)}, "northwind-logistics"),  # parent domain
        ({"emails": ("dana@NORTHWIND.COM",)}, "northwind-logistics"),
        ({"emails": ("a@ferrox.io", "b@ferrox.io", "c@northwind.com")}, "ferrox-payments"),
        ({"emails": ("sam@brightmetrics.io",)}, None),  # internal people never decide
        ({"emails": ("someone@gmail.com",)}, None),
    ],
)
def test_order_of_evidence(kwargs: dict[str, object], expected: str | None) -> None:
    result = assign_account(conversation(**kwargs), MAP, internal)  # type: ignore[arg-type]
    if expected is None:
        assert isinstance(result, UnmappedConversation)
    else:
        assert isinstance(result, Conversation)
        assert result.account_id == expected


def test_bare_org_id_in_the_map_matches_any_system() -> None:
    mapping = AccountMap(accounts={"acme": None}, by_org_id={"12345": "acme"})
    result = assign_account(conversation(org_ids=("freshdesk:12345",)), mapping, internal)
    assert isinstance(result, Conversation)
    assert result.account_id == "acme"


def test_unmapped_names_ids_only_and_keys_by_an_account_free_hash() -> None:
    item = conversation(org_ids=("zendesk:999",), emails=("jane.roe@unknown.example",))
    error = assign_account(item, MAP, internal)
    assert isinstance(error, UnmappedConversation)
    message = str(error)
    assert "c-1" in message
    assert "zendesk:999" in message
    assert "Secret" not in message
    assert "jane" not in message
    assert "unknown.example" not in message
    assert error.path == "export.json"
    assert error.record == "$.tickets[0] (ticket c-1)"
    mapped = replace(item, account_id="acme")
    assert error.content_hash == retry_key(item) == retry_key(mapped)
    assert mapped.content_hash != retry_key(mapped)


def test_account_name_comes_from_the_map_unless_the_export_has_one() -> None:
    result = assign_account(conversation(emails=("k@kestrelmedia.com",)), MAP, internal)
    assert isinstance(result, Conversation)
    assert result.account_name == "Kestrel Media Group"


@pytest.mark.parametrize(
    ("name", "content", "message", "record"),
    [
        ("m.csv", "domain\nacme.com\n", "missing column 'account_id'", "line 1"),
        ("m.csv", "account_id,domains\n,acme.com\n", "no account id", "line 2"),
        ("m.csv", "account_id,domains\na,acme.com\nb,acme.com\n", "two accounts", "line 3"),
        ("m.yaml", "accounts: [unclosed\n", "not valid YAML", "line 2"),
        ("m.yaml", "accounts: 5\n", "expected 'accounts:'", None),
        ("m.yaml", "accounts:\n  - just-a-string\n", "must be a mapping", "accounts[0]"),
    ],
)
def test_bad_map_files_name_file_and_line(
    tmp_path: Path, name: str, content: str, message: str, record: str | None
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(IngestError, match=message) as caught:
        load_account_map(path)
    assert caught.value.path == str(path)
    assert caught.value.record == record


def test_yaml_list_shape_and_long_csv_shape(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "- {id: acme, name: Acme, domains: acme.com, org_ids: [zendesk:1]}\n"
    )
    (tmp_path / "b.csv").write_text("account_id,domain,org_id\nacme,acme.com,\nacme,,zendesk:1\n")
    first, second = load_account_map(tmp_path / "a.yml"), load_account_map(tmp_path / "b.csv")
    assert first.by_domain == second.by_domain == {"acme.com": "acme"}
    assert first.by_org_id == second.by_org_id == {"zendesk:1": "acme"}
