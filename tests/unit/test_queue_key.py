"""Where the queue's encryption key comes from: the setting, else a private key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from convsignal.api.encryption import key_file_for, load_cipher
from convsignal.config import Settings
from convsignal.errors import ConfigError


def test_a_key_file_is_created_once_next_to_the_sqlite_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cs.db'}")
    token = load_cipher(settings).encrypt(b"queued text")
    key_file = tmp_path / "cs.db.queue-key"
    assert key_file_for(settings.database_url) == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_cipher(settings).decrypt(token) == b"queued text"  # the same key, reused
    assert [p.name for p in tmp_path.iterdir()] == ["cs.db.queue-key"]  # no temporary left


def test_other_databases_keep_it_in_the_user_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    url = "postgresql+psycopg://app@db/convsignal"
    assert key_file_for(url) == tmp_path / "convsignal" / "queue.key"
    load_cipher(Settings(database_url=url))
    assert (tmp_path / "convsignal" / "queue.key").exists()


@pytest.mark.parametrize("value", ["not-a-key", "short,keys"])
def test_a_bad_queue_key_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="CONVSIGNAL_QUEUE_KEY"):
        load_cipher(Settings(queue_key=value))


def test_a_damaged_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cs.db.queue-key").write_text("garbage")
    with pytest.raises(ConfigError, match="does not hold a Fernet key"):
        load_cipher(Settings(database_url=f"sqlite:///{tmp_path / 'cs.db'}"))
