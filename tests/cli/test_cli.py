"""The command line through its runner: init, submit, show, verify, keys; exit codes."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rantai.cli.main import EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_USAGE, app
from rantai.node.datadir import load_key

runner = CliRunner()


def rantai(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def data(tmp_path: Path) -> Path:
    code, out = rantai("init", "--data", tmp_path / "chain", "--chain-id", "cli-test", "--json")
    assert code == 0, out
    assert json.loads(out)["chain_id"] == "cli-test"
    return tmp_path / "chain"


def _register(data: Path, party: str, roles: list[str]) -> dict:
    key_path = data / "keys" / f"{party}.key"
    code, out = rantai("keys", "new", key_path, "--party", party, "--json")
    assert code == 0, out
    public = json.loads(out)["public_key"]
    body = json.dumps(
        {"id": party, "kind": "organisation", "name": party, "keys": [public], "roles": roles}
    )
    code, out = rantai(
        "submit",
        "--data",
        data,
        "register_party",
        "--key",
        data / "keys/registrar.key",
        "--body",
        body,
        "--json",
    )
    assert code == 0, out
    return json.loads(out)


def test_init_writes_private_key_files(data: Path) -> None:
    for path in (data / "keys").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(data / "keys/SC.key").party == "SC"
    code, out = rantai("init", "--data", data)
    assert code == EXIT_USAGE and "exists" in out


def test_submit_show_and_verify(data: Path) -> None:
    receipt = _register(data, "issuer1", ["issuer"])
    assert receipt["code"] == "ok" and receipt["height"] == 1
    issuer_key = data / "keys/issuer1.key"
    body = json.dumps(
        {"code": "BOND1", "kind": "bond", "name": "Bond", "decimals": 2, "supply_cap": 10**9}
    )
    assert (
        rantai("submit", "-d", data, "create_instrument", "-k", issuer_key, "--body", body)[0] == 0
    )
    body = json.dumps(
        {"instrument": "BOND1", "to": "issuer1:main", "amount": 5_000, "reference": "x"}
    )
    assert rantai("submit", "-d", data, "mint", "-k", issuer_key, "--body", body)[0] == 0

    code, out = rantai("show", "balance", "-d", data, "issuer1:main", "BOND1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["value"] == 5_000 and shown["proof_verified"] is True
    code, out = rantai(
        "show", "balance", "-d", data, "issuer1:main", "BOND1", "--height", "2", "--json"
    )
    assert json.loads(out)["value"] == 0 and json.loads(out)["proof_verified"] is True
    code, out = rantai("show", "party", "-d", data, "issuer1", "--json")
    assert json.loads(out)["value"]["roles"] == ["issuer"]
    code, out = rantai("show", "instrument", "-d", data, "BOND1", "--json")
    assert json.loads(out)["value"]["supply"] == 5_000
    code, out = rantai("show", "block", "-d", data, "head", "--json")
    block = json.loads(out)
    assert block["header"]["height"] == 3 and block["txs"][0]["kind"] == "mint"
    code, out = rantai("show", "tx", "-d", data, block["txs"][0]["tx_id"], "--json")
    assert json.loads(out)["receipt"]["code"] == "ok"

    code, out = rantai("verify", "--data", data, "--json")
    assert code == 0 and json.loads(out)["ok"] is True and json.loads(out)["blocks"] == 4


def test_rejected_submission_exits_1_with_code(data: Path) -> None:
    _register(data, "issuer1", ["issuer"])
    body = json.dumps({"instrument": "NOPE", "to": "issuer1:main", "amount": 1, "reference": ""})
    code, out = rantai(
        "submit", "-d", data, "mint", "-k", data / "keys/issuer1.key", "--body", body, "--json"
    )
    assert code == EXIT_REJECTED and json.loads(out)["code"] == "unknown_instrument"
    body = json.dumps({"instrument": "NOPE", "to": "issuer1:main", "amount": 0, "reference": ""})
    code, out = rantai(
        "submit", "-d", data, "mint", "-k", data / "keys/issuer1.key", "--body", body, "--json"
    )
    assert code == EXIT_REJECTED and json.loads(out)["code"] == "bad_amount"
    assert json.loads(out)["height"] is None


def test_usage_and_not_found(data: Path, tmp_path: Path) -> None:
    assert rantai("submit", "-d", data, "steal", "-k", data / "keys/SC.key")[0] == EXIT_USAGE
    assert (
        rantai("submit", "-d", data, "mint", "-k", data / "keys/SC.key", "--body", "{")[0]
        == EXIT_USAGE
    )
    assert rantai("show", "party", "-d", data, "nobody")[0] == EXIT_NOT_FOUND
    assert rantai("show", "block", "-d", data, "99")[0] == EXIT_NOT_FOUND
    assert rantai("show", "block", "-d", tmp_path / "empty")[0] == EXIT_NOT_FOUND
    assert rantai("verify", "--data", tmp_path / "empty")[0] == EXIT_NOT_FOUND
    assert rantai("verify")[0] == EXIT_USAGE


def test_verify_names_the_bad_height(data: Path) -> None:
    _register(data, "issuer1", ["issuer"])
    with sqlite3.connect(data / "ledger.db") as db:
        (receipt,) = db.execute("SELECT receipt FROM txs WHERE height = 1").fetchone()
        db.execute("UPDATE txs SET receipt = ? WHERE height = 1", (receipt[:-1] + b"\x00",))
    code, out = rantai("verify", "--data", data, "--json")
    assert code == EXIT_REJECTED
    report = json.loads(out)
    assert report["ok"] is False and report["bad_height"] == 1 and "receipt" in report["problem"]


def test_demo_small(tmp_path: Path) -> None:
    code, out = rantai(
        "demo", "--data", tmp_path / "demo", "--investors", "20", "--trades", "50", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["ok"] is True
    assert rantai("verify", "--data", tmp_path / "demo")[0] == 0


@pytest.mark.postgres
def test_postgres_chain_init_submit_verify(tmp_path: Path, postgres_dsn: str) -> None:
    data = tmp_path / "pg"
    assert rantai("init", "--data", data, "--db", postgres_dsn)[0] == 0
    assert not (data / "ledger.db").exists()
    assert _register(data, "issuer1", ["issuer"])["code"] == "ok"
    code, out = rantai("verify", "--db", postgres_dsn, "--json")
    assert code == 0, out
    assert json.loads(out)["blocks"] == 2
    assert rantai("verify", "--data", data)[0] == 0


@pytest.mark.postgres
def test_demo_on_postgres_audits_clean(tmp_path: Path, postgres_dsn: str) -> None:
    from rantai.cli.demo import run_embedded_demo
    from rantai.node.audit import audit
    from rantai.store import open_store

    report = run_embedded_demo(tmp_path / "pg", investors=20, trades=40, store_target=postgres_dsn)
    assert report.ok, report.steps
    store = open_store(postgres_dsn)
    try:
        assert audit(store).ok
    finally:
        store.close()
