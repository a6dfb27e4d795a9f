"""``rantai``: init, submit, show, verify, keys, bench.

Exit codes, one table for every command:

| code | meaning |
|---|---|
| 0 | done; for ``submit``, every transaction committed ``ok`` |
| 1 | ``verify`` found the chain wrong, or a transaction was refused or rejected |
| 2 | bad usage or input |
| 3 | not found: no chain in the directory, no such block, transaction, party |
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rantai import sdk
from rantai.cli.bench import bench
from rantai.cli.demo import run_demo, run_embedded_demo
from rantai.cli.serve import up
from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.encoding import decode
from rantai.core.errors import Malformed
from rantai.core.jsonform import body_from_json, to_json
from rantai.core.proofs import verify_state_value
from rantai.core.records import balance_key, instrument_key, nonce_key, party_key
from rantai.core.state import namespace_type
from rantai.core.tx import body_types, build_envelope, decode_envelope
from rantai.crypto.keys import SigningKey
from rantai.node.audit import audit
from rantai.node.collector import quiet_collector
from rantai.node.datadir import ChainFiles, init_chain, load_key, open_node, save_key
from rantai.node.node import Node
from rantai.node.reads import Reader
from rantai.store import open_store

app = typer.Typer(
    help="Rantai: a regulator-grade ledger for tokenized instruments.", no_args_is_help=True
)
show_app = typer.Typer(help="Show blocks, transactions, parties, instruments, balances.")
keys_app = typer.Typer(help="Make key files.")
app.add_typer(show_app, name="show", no_args_is_help=True)
app.add_typer(keys_app, name="keys", no_args_is_help=True)
app.command()(up)
app.command()(bench)

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3

console = Console()
DataOpt = Annotated[Path, typer.Option("--data", "-d", help="The node's data directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, for scripts.")]


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(to_json(value), indent=2, sort_keys=True))


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _open(data: Path) -> Node:
    try:
        return open_node(data)
    except FileNotFoundError as exc:
        raise _fail(str(exc), EXIT_NOT_FOUND) from None


@app.command()
def init(
    data: DataOpt,
    chain_id: Annotated[str, typer.Option(help="The new chain's id.")] = "rantai-local",
    db: Annotated[str | None, typer.Option(help="postgresql:// URL instead of SQLite.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a new chain: keys for the agencies, operator, registrar and node; block 0."""
    try:
        node = init_chain(data, chain_id, store_target=db)
    except FileExistsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    head = node.ledger.head
    node.stop()
    node.store.close()
    keys = sorted(p.name for p in (data / "keys").iterdir())
    if as_json:
        _print_json({"chain_id": chain_id, "height": 0, "header": head, "keys": keys})
        return
    console.print(f"[green]chain[/green] {chain_id} created in {data}")
    console.print(f"key files (mode 0600) in {data / 'keys'}: {', '.join(keys)}")


@app.command()
def submit(
    data: DataOpt,
    kind: Annotated[str, typer.Argument(help="Transaction kind, e.g. transfer.")],
    key_file: Annotated[Path, typer.Option("--key", "-k", help="Key file of the sender.")],
    body: Annotated[str, typer.Option(help="The body's fields as a JSON object.")] = "{}",
    nonce: Annotated[int | None, typer.Option(help="Default: the sender's next nonce.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a transaction, submit it to the node in DIR, commit it in a block, print its receipt.

    Byte fields (keys) are given as hex strings.
    """
    try:
        fields = json.loads(body)
        tx_body = body_from_json(kind, fields if isinstance(fields, dict) else {})
    except json.JSONDecodeError as exc:
        raise _fail(f"body: {exc}", EXIT_USAGE) from None
    except Malformed as exc:
        kinds = ", ".join(sorted(str(t.__struct_config__.tag) for t in body_types()))
        hint = f"; kinds: {kinds}" if exc.code == codes.UNKNOWN_KIND else ""
        raise _fail(f"body: {exc}{hint}", EXIT_USAGE) from None
    signer = load_key(key_file)
    node = _open(data)
    try:
        chain = node.ledger.chain
        chain_id = chain.chain_id if chain else ""
        next_nonce = (
            nonce if nonce is not None else node.ledger.values.get(nonce_key(signer.party), 0)
        )
        envelope = build_envelope(chain_id, signer.party, next_nonce, signer.key, tx_body)
        admitted = node.submit([envelope])[0]
        if admitted.code != codes.OK:
            _report_receipt(admitted.tx_id, None, admitted.code, admitted.message, as_json)
            raise typer.Exit(EXIT_REJECTED)
        outcome = node.produce_block()
    finally:
        node.stop()
        node.store.close()
    if outcome is None:
        raise _fail("no block was produced", EXIT_REJECTED)
    receipt = outcome.receipts[0]
    _report_receipt(admitted.tx_id, outcome.header.height, receipt.code, "", as_json, receipt)
    if receipt.code != codes.OK:
        raise typer.Exit(EXIT_REJECTED)


def _report_receipt(
    tx_id: bytes | None,
    height: int | None,
    code: str,
    message: str,
    as_json: bool,
    receipt: Receipt | None = None,
) -> None:
    if as_json:
        _print_json(
            {
                "tx_id": tx_id,
                "height": height,
                "code": code,
                "message": message,
                "events": receipt.events if receipt else [],
            }
        )
        return
    colour = "green" if code == codes.OK else "red"
    where = f" in block {height}" if height is not None else " (not ordered)"
    console.print(
        f"tx {tx_id.hex() if tx_id else '-'}{where}: [{colour}]{code}[/{colour}] {message}"
    )
    for event in receipt.events if receipt else ():
        console.print(f"  {event.name} {to_json(event.attrs)}")


@app.command()
def verify(
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Data directory.")] = None,
    db: Annotated[str | None, typer.Option(help="postgresql:// URL of the store.")] = None,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="Processes checking signatures (0: none).")
    ] = os.cpu_count() or 1,
    as_json: JsonOpt = False,
) -> None:
    """Replay the chain from genesis and recheck every signature, hash link, root and value."""
    if data is not None and db is None:
        if not (data / "ledger.db").exists() and not (data / "chain.json").exists():
            raise _fail(f"{data} holds no chain", EXIT_NOT_FOUND)
        target = ChainFiles(data).store_target()
    elif db is not None and data is None:
        target = db
    else:
        raise _fail("give --data DIR or --db URL", EXIT_USAGE)
    store = open_store(target)
    try:
        with quiet_collector():
            report = audit(store, verify_workers=workers)
    finally:
        store.close()
    if as_json:
        _print_json(
            {
                "ok": report.ok,
                "blocks": report.blocks,
                "txs": report.txs,
                "state_keys": report.state_keys,
                "head_height": report.head_height,
                "state_root": report.state_root,
                "bad_height": report.failure.height if report.failure else None,
                "problem": report.failure.problem if report.failure else None,
            }
        )
    elif report.failure is None:
        console.print(
            f"[green]verified[/green] {report.blocks} blocks, {report.txs} transactions, "
            f"{report.state_keys} state keys; state root {report.state_root.hex()}"
        )
    else:
        console.print(
            f"[red]FAILED at height {report.failure.height}[/red]: {report.failure.problem}"
        )
    if not report.ok:
        raise typer.Exit(EXIT_REJECTED)


def _reader(data: Path) -> Reader:
    return Reader(_open(data))


def _close(reader: Reader) -> None:
    reader.node.stop()
    reader.node.store.close()


@show_app.command("block")
def show_block(
    data: DataOpt,
    height: Annotated[str, typer.Argument(help="A height, or 'head'.")] = "head",
    as_json: JsonOpt = False,
) -> None:
    """A block's header, certificate and transactions with their receipt codes."""
    reader = _reader(data)
    try:
        store = reader.node.store
        head = store.head_height()
        wanted = head if height == "head" else _int(height, "height")
        block = None if wanted is None else store.get_block(wanted)
        if block is None or wanted is None:
            raise _fail(f"no block {height}", EXIT_NOT_FOUND)
        header = reader.header(wanted)
        txs: list[dict[str, str]] = []
        for t in block.txs:
            envelope, body = decode_envelope(t.envelope)
            txs.append(
                {
                    "tx_id": t.tx_id.hex(),
                    "kind": str(body.__struct_config__.tag),
                    "sender": envelope.sender,
                    "code": decode(t.receipt, Receipt).code,
                }
            )
    finally:
        _close(reader)
    if as_json:
        _print_json({"header_hash": block.header_hash, "header": header, "txs": txs})
        return
    table = Table(title=f"block {wanted}  {block.header_hash.hex()}")
    for column in ("#", "tx id", "kind", "sender", "result"):
        table.add_column(column)
    for i, tx in enumerate(txs):
        table.add_row(str(i), tx["tx_id"][:16], tx["kind"], tx["sender"], tx["code"])
    console.print(to_json(header))
    console.print(table)


@show_app.command("tx")
def show_tx(
    data: DataOpt,
    tx_id: Annotated[str, typer.Argument(help="Transaction id (hex).")],
    as_json: JsonOpt = False,
) -> None:
    """A transaction, its receipt, and their inclusion proofs."""
    reader = _reader(data)
    try:
        answer = reader.tx(_hex(tx_id, "tx id"))
    finally:
        _close(reader)
    if answer is None:
        raise _fail(f"no transaction {tx_id}", EXIT_NOT_FOUND)
    envelope, body = decode_envelope(answer.envelope)
    receipt = decode(answer.receipt, Receipt)
    document = {
        "tx_id": answer.tx_id,
        "height": answer.height,
        "index": answer.index,
        "sender": envelope.sender,
        "nonce": envelope.nonce,
        "body": body,
        "receipt": receipt,
        "tx_proof": answer.tx_path,
        "receipt_proof": answer.receipt_path,
    }
    if as_json:
        _print_json(document)
    else:
        console.print(to_json(document))


@show_app.command("party")
def show_party(
    data: DataOpt, party: Annotated[str, typer.Argument()], as_json: JsonOpt = False
) -> None:
    """A party's record: kind, keys, roles."""
    _show_key(data, party_key(party), None, as_json, f"no party {party!r}")


@show_app.command("instrument")
def show_instrument(
    data: DataOpt, code: Annotated[str, typer.Argument()], as_json: JsonOpt = False
) -> None:
    """An instrument's terms and supply."""
    _show_key(data, instrument_key(code), None, as_json, f"no instrument {code!r}")


@show_app.command("balance")
def show_balance(
    data: DataOpt,
    account: Annotated[str, typer.Argument(help="Account id, e.g. inv-1:main.")],
    instrument: Annotated[str, typer.Argument()],
    height: Annotated[int | None, typer.Option(help="A past height; default head.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A balance (minor units) at the head or a past height, with its Merkle proof checked."""
    _show_key(data, balance_key(account, instrument), height, as_json, None)


def _show_key(data: Path, key: str, height: int | None, as_json: bool, missing: str | None) -> None:
    reader = _reader(data)
    try:
        answer = reader.state(key, height)
    finally:
        _close(reader)
    if answer is None:
        raise _fail(f"no block at height {height}", EXIT_NOT_FOUND)
    if answer.value is None and missing is not None:
        raise _fail(missing, EXIT_NOT_FOUND)
    value = None if answer.value is None else decode(answer.value, namespace_type(key))
    if key.startswith("bal/") and value is None:
        value = 0
    proof_ok = verify_state_value(answer.header, key, answer.value, answer.proof)
    document = {
        "key": key,
        "height": answer.height,
        "value": value,
        "state_root": answer.header.state_root,
        "proof": answer.proof,
        "proof_verified": proof_ok,
    }
    if as_json:
        _print_json(document)
        return
    console.print(to_json(value))
    mark = "[green]verified[/green]" if proof_ok else "[red]DOES NOT VERIFY[/red]"
    console.print(f"at height {answer.height}; Merkle proof against the state root: {mark}")


@keys_app.command("new")
def keys_new(
    out: Annotated[Path, typer.Argument(help="Key file to write (mode 0600).")],
    party: Annotated[str, typer.Option(help="The party id the key is for.")],
    as_json: JsonOpt = False,
) -> None:
    """Make a new Ed25519 key file."""
    key = SigningKey.generate()
    try:
        save_key(out, party, key)
    except FileExistsError:
        raise _fail(f"{out} exists", EXIT_USAGE) from None
    if as_json:
        _print_json({"party": party, "public_key": key.public_key})
    else:
        console.print(f"public key {key.public_key.hex()} for {party} in {out}")


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _fail(f"{what}: not a number: {text!r}", EXIT_USAGE) from None


def _hex(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise _fail(f"{what}: not hex: {text!r}", EXIT_USAGE) from None


@app.command()
def demo(
    data: Annotated[Path | None, typer.Option("--data", "-d", help="New chain here.")] = None,
    url: Annotated[str | None, typer.Option(help="A running node's API instead.")] = None,
    keys: Annotated[
        Path | None, typer.Option(help="With --url: the directory of the genesis key files.")
    ] = None,
    investors: Annotated[int, typer.Option(min=2, max=100_000)] = 500,
    trades: Annotated[int, typer.Option(min=0, max=1_000_000)] = 2_000,
    as_json: JsonOpt = False,
) -> None:
    """Play the demo scenario through the SDK: in a new chain in DIR (served on loopback while
    it plays, and left there to explore and verify), or against a running node at URL."""
    if (data is None) == (url is None) or (url is not None and keys is None):
        raise _fail("give --data DIR, or --url URL with --keys DIR", EXIT_USAGE)
    if data is not None and (data / "chain.json").exists():
        raise _fail(f"{data} holds a chain already; the demo needs a new one", EXIT_USAGE)
    with console.status("playing the demo") as status:
        try:
            if data is not None:
                report = run_embedded_demo(data, investors, trades, progress=status.update)
            else:
                assert url is not None and keys is not None  # checked above, for mypy
                report = run_demo(url, keys, investors, trades, progress=status.update)
        except (ValueError, sdk.RantaiError) as exc:
            raise _fail(f"demo: {exc}", EXIT_REJECTED) from None
    if as_json:
        _print_json({"ok": report.ok, "head_height": report.head_height, "steps": report.steps})
    else:
        table = Table(title=f"demo chain: head at height {report.head_height}")
        for column in ("step", "transactions", "not as expected"):
            table.add_column(column)
        for name, sent, failures in report.steps:
            table.add_row(name, str(sent), f"[{'red' if failures else 'green'}]{failures}")
        console.print(table)
    if not report.ok:
        raise typer.Exit(EXIT_REJECTED)
