"""``rantai up``: run a node and its HTTP API in one process.

```
rantai up [--data DIR] [--db URL] [--host 127.0.0.1] [--port 8000] [--demo]
          [--sanctions-list FILE] [--log-format json|text]
```
On a data directory without a chain it first creates one (``init``), or with ``--demo``
plays the demo scenario into it (with a progress display). Then the node's executor runs in
a background thread (signatures checked in one process per CPU) and uvicorn serves the API.
The API's supervisor runs the AML monitors (docs/supervision.md) with their default config;
``--sanctions-list`` gives them a UN consolidated list file, read once at start.

Logs go to stderr one line per event (``rantai.logs``): JSON by default when stderr is not a
terminal, text when it is, or as ``--log-format`` says. In JSON the progress display and
the console messages are silent; their news is logged instead.

SIGINT or SIGTERM shuts down gracefully, in this order: header streams end at once (they
would otherwise hold uvicorn's drain for its whole timeout), uvicorn stops accepting and
finishes the requests in flight (at most ``GRACEFUL_S``), the API's lifespan flushes the
access log, then the executor finishes the block in progress, and the store closes. Exit
status 0 after a clean shutdown.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rantai.cli.demo import run_embedded_demo
from rantai.core.errors import InvariantError
from rantai.logs import RequestLogMiddleware, configure_logging, saved_logging
from rantai.node.collector import quiet_collector
from rantai.node.datadir import ChainFiles, init_chain, open_node
from rantai.node.node import Node, NodeConfig

if TYPE_CHECKING:
    from rantai.web import DemoLogins

from rantai.supervision import (
    SanctionsList,
    SanctionsListError,
    load_sanctions_list,
)

__all__ = ["serving_in_background", "up"]

GRACEFUL_S: Final = 5
STARTUP_S: Final = 30

console = Console(stderr=True)

# The identities the dashboard's login page offers with --demo: an agency of each scope that
# approves, both issuers, and two investors of the demo scenario (rantai.cli.demo).
DEMO_LOGINS: Final = ("SC", "BNM", "mof", "tenaga", "inv-00000", "inv-00001")


class LogFormatChoice(StrEnum):
    """The values of ``--log-format``."""

    json = "json"
    text = "text"


log = logging.getLogger("rantai.cli.up")


def up(
    command: typer.Context,
    data: Annotated[Path, typer.Option("--data", "-d", help="The node's data directory.")] = Path(
        "data"
    ),
    db: Annotated[str | None, typer.Option(help="postgresql:// URL instead of SQLite.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535, help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="On an empty DIR, play the demo scenario first. The dashboard's login page "
            "then offers demo identities whose keys it hands out: never on a real chain.",
        ),
    ] = False,
    chain_id: Annotated[str, typer.Option(help="Chain id for a new chain.")] = "rantai-local",
    sanctions_list: Annotated[
        Path | None,
        typer.Option(help="UN consolidated sanctions list (XML) for the AML monitors."),
    ] = None,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(help="Log lines on stderr (default: json unless a terminal)."),
    ] = None,
) -> None:
    """Run the node and serve the HTTP API (docs/api.md) until SIGINT or SIGTERM."""
    # Put the process's logging back when the command ends (it may run inside a test runner).
    command.call_on_close(_restore_logging(saved_logging()))
    chosen_format = configure_logging(None if log_format is None else log_format.value)
    console.quiet = chosen_format == "json"
    sanctions: SanctionsList | None = None
    if sanctions_list is not None:
        try:
            sanctions = load_sanctions_list(sanctions_list)
        except SanctionsListError as exc:
            console.print(f"[red]sanctions list refused:[/red] {exc}")
            if console.quiet:  # JSON logs: the refusal is a log line
                log.error("sanctions list refused", extra={"error": str(exc)})
            raise typer.Exit(2) from None
    config = NodeConfig(verify_workers=os.cpu_count() or 1, write_process=True)
    node = _prepare(data, db, demo, chain_id, config)
    command.with_resource(quiet_collector())
    try:
        node.start()
        demo_logins = _demo_logins(data) if demo else None
        _serve(node, host, port, chosen_format, sanctions, demo_logins)
    finally:
        node.stop()
        node.store.close()
    console.print("[green]stopped[/green] cleanly")
    log.info("stopped cleanly")


def _restore_logging(restore: Callable[[], None]) -> Callable[[], None]:
    def restore_all() -> None:
        restore()
        console.quiet = False

    return restore_all


def _prepare(data: Path, db: str | None, demo: bool, chain_id: str, config: NodeConfig) -> Node:
    """The node of ``data``, creating the chain (or the demo chain) first if there is none."""
    if not ChainFiles(data).config.exists():
        if demo:
            _seed_demo(data, db)
        else:
            node = init_chain(data, chain_id, store_target=db, config=config)
            console.print(f"[green]chain[/green] {chain_id} created in {data}")
            return node
    return open_node(data, config, store_target=db)


def _seed_demo(data: Path, db: str | None) -> None:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("genesis", total=None)
        report = run_embedded_demo(
            data, store_target=db, progress=lambda step: progress.update(task, description=step)
        )
        progress.update(task, description=f"demo chain ready at height {report.head_height}")
    if not report.ok:
        failed = [name for name, _, failures in report.steps if failures]
        console.print(f"[red]demo steps not as expected:[/red] {', '.join(failed)}")
        if console.quiet:
            log.error("demo steps not as expected", extra={"steps": failed})
        raise typer.Exit(1)


def _demo_logins(data: Path) -> DemoLogins:
    from rantai.web import DemoLogins  # noqa: PLC0415 -- heavy API imports

    return DemoLogins(ChainFiles(data).keys, DEMO_LOGINS)


def _serve(
    node: Node,
    host: str,
    port: int,
    log_format: str,
    sanctions: SanctionsList | None = None,
    demo_logins: DemoLogins | None = None,
) -> None:
    # Imported here: the API stack takes most of a second to import, which every other
    # command would pay for at start-up.
    import uvicorn  # noqa: PLC0415

    from rantai.api import api_context, create_app  # noqa: PLC0415
    from rantai.supervision.process import SupervisionProcess  # noqa: PLC0415

    # The monitors run in a process of their own, beside this one's interpreter lock
    # (docs/decisions/supervision-process.md); the app's own supervisor only reads and
    # reviews alerts.
    if node.store_target is None:  # node.start() needed it for the writer process already
        raise InvariantError("rantai up needs the node's store target")
    supervision = SupervisionProcess(node.store_target, sanctions, log_format)
    app = create_app(node, supervision=supervision, demo_logins=demo_logins)
    app.add_middleware(RequestLogMiddleware)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_S,
        log_config=None,  # configure_logging set the handlers
        access_log=False,  # RequestLogMiddleware logs requests, without their query
    )
    close_streams = api_context(app).feed.close_streams

    class Server(uvicorn.Server):
        """Ends the app's header streams as soon as a signal arrives."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams()
            super().handle_exit(sig, frame)

    server = Server(config)
    head = node.ledger.head
    chain = node.ledger.chain
    console.print(
        f"serving chain {chain.chain_id if chain else '?'} at height "
        f"{head.height if head else '-'} on http://{host}:{port} (docs: /docs)"
    )
    log.info(
        "serving",
        extra={"chain_id": chain.chain_id if chain else None,
               "height": head.height if head else None, "url": f"http://{host}:{port}"},
    )  # fmt: skip
    with _signals_kept():
        server.run()


@contextmanager
def _signals_kept() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while uvicorn runs, so that our cleanup runs after it.

    After a graceful shutdown uvicorn restores the handlers it found and raises the signal
    it caught again; with the default handlers that would kill the process (SIGTERM) or
    raise KeyboardInterrupt (SIGINT) before the executor stops and the store closes.
    """
    caught: list[int] = []

    def note(sig: int, frame: FrameType | None) -> None:
        caught.append(sig)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def serving_in_background(
    node: Node, host: str = "127.0.0.1", *, demo_logins: DemoLogins | None = None
) -> Iterator[str]:
    """Serve ``node``'s API from a background thread on a free port; yield its base URL.

    For the embedded demo and tests: no signal handling, quiet logs, stopped on exit.
    """
    import socket  # noqa: PLC0415
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    from rantai.api import create_app  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    app = create_app(node, demo_logins=demo_logins)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="rantai-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(GRACEFUL_S + 5)
