"""Key files: round trips, passphrase sealing, file mode, and the node's plain format."""

from __future__ import annotations

import json
import stat
import unicodedata
from pathlib import Path

import pytest

from rantai import sdk
from rantai.node.datadir import save_key as node_save_key

CHEAP = {"kdf_passes": 1, "kdf_memory_bytes": 8192}  # libsodium's minimum: fast tests


def test_plain_round_trip(tmp_path: Path) -> None:
    key = sdk.generate_key()
    sdk.save_key(tmp_path / "a.key", key, "alice")
    loaded = sdk.load_key(tmp_path / "a.key")
    assert loaded == sdk.PartyKey("alice", loaded.key)
    assert loaded.key.seed == key.seed
    document = json.loads((tmp_path / "a.key").read_text())
    assert document["version"] == 1 and document["encryption"] is None


def test_encrypted_round_trip_hides_the_seed(tmp_path: Path) -> None:
    key = sdk.generate_key()
    path = tmp_path / "a.key"
    sdk.save_key(path, key, "alice", "correct horse battery staple", **CHEAP)
    text = path.read_text()
    assert key.seed.hex() not in text
    document = json.loads(text)
    assert document["version"] == 1
    assert document["party"] == "alice"
    assert document["encryption"]["kdf"] == "argon2id"
    assert "seed" not in document
    loaded = sdk.load_key(path, "correct horse battery staple")
    assert loaded.party == "alice" and loaded.key.seed == key.seed


def test_default_cost_round_trip(tmp_path: Path) -> None:
    """Once with the real (moderate) Argon2id cost that users get."""
    key = sdk.generate_key()
    sdk.save_key(tmp_path / "a.key", key, "alice", b"pass")
    document = json.loads((tmp_path / "a.key").read_text())
    assert document["encryption"]["passes"] == sdk._keys.KDF_PASSES_DEFAULT
    assert document["encryption"]["memory_bytes"] == sdk._keys.KDF_MEMORY_BYTES_DEFAULT
    assert sdk.load_key(tmp_path / "a.key", b"pass").key.seed == key.seed


def test_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    sdk.save_key(tmp_path / "a.key", sdk.generate_key(), "alice", "right", **CHEAP)
    with pytest.raises(sdk.WrongPassphrase, match="wrong passphrase"):
        sdk.load_key(tmp_path / "a.key", "wrong")
    with pytest.raises(sdk.KeyFileError, match="give its passphrase"):
        sdk.load_key(tmp_path / "a.key")


def test_passphrase_is_normalised(tmp_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "café")
    decomposed = unicodedata.normalize("NFD", "café")
    assert composed != decomposed
    sdk.save_key(tmp_path / "a.key", sdk.generate_key(), "alice", composed, **CHEAP)
    sdk.load_key(tmp_path / "a.key", decomposed)


def test_file_mode_is_0600_and_files_are_never_overwritten(tmp_path: Path) -> None:
    for name, passphrase in (("plain.key", None), ("sealed.key", "p")):
        path = tmp_path / "keys" / name
        sdk.save_key(path, sdk.generate_key(), "alice", passphrase, **CHEAP)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        before = path.read_bytes()
        with pytest.raises(FileExistsError):
            sdk.save_key(path, sdk.generate_key(), "alice", passphrase, **CHEAP)
        assert path.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["plain.key", "sealed.key"]


def test_the_nodes_plain_format_loads(tmp_path: Path) -> None:
    key = sdk.generate_key()
    node_save_key(tmp_path / "legacy.key", "operator", key)
    assert "version" not in json.loads((tmp_path / "legacy.key").read_text())
    loaded = sdk.load_key(tmp_path / "legacy.key")
    assert loaded.party == "operator" and loaded.key.seed == key.seed
    # A passphrase is not needed for a plain file, and harmless.
    assert sdk.load_key(tmp_path / "legacy.key", "unused").key.seed == key.seed


def _rewrite(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def test_altered_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    sdk.save_key(path, sdk.generate_key(), "alice", "p", **CHEAP)
    _rewrite(path, party="mallory")
    with pytest.raises(sdk.KeyFileError, match="party was changed"):
        sdk.load_key(path, "p")

    path = tmp_path / "b.key"
    sdk.save_key(path, sdk.generate_key(), "alice")
    _rewrite(path, public_key=sdk.generate_key().public_key.hex())
    with pytest.raises(sdk.KeyFileError, match="does not match"):
        sdk.load_key(path)

    _rewrite(path, version=2)
    with pytest.raises(sdk.KeyFileError, match="version 2"):
        sdk.load_key(path)

    (tmp_path / "c.key").write_text("not json")
    with pytest.raises(sdk.KeyFileError, match="not a key file"):
        sdk.load_key(tmp_path / "c.key")


def test_a_crafted_kdf_cost_is_refused_before_it_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    sdk.save_key(path, sdk.generate_key(), "alice", "p", **CHEAP)
    document = json.loads(path.read_text())
    document["encryption"]["memory_bytes"] = 1 << 40
    path.write_text(json.dumps(document))
    with pytest.raises(sdk.KeyFileError, match="Argon2id memory"):
        sdk.load_key(path, "p")


def test_save_refuses_an_empty_passphrase_and_bad_costs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty passphrase"):
        sdk.save_key(tmp_path / "a.key", sdk.generate_key(), "alice", "")
    with pytest.raises(ValueError, match="passes"):
        sdk.save_key(tmp_path / "a.key", sdk.generate_key(), "alice", "p", kdf_passes=0)
    assert not (tmp_path / "a.key").exists()
