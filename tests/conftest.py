"""Fixtures shared by the whole test suite.

PostgreSQL: tests marked ``postgres`` get a fresh database from ``postgres_dsn``. The server
is, in this order of preference:

1. ``RANTAI_TEST_PG_DSN`` when set to a ``postgresql://`` URL of a maintenance database
   (a user allowed to create databases) and that server answers;
2. a server at ``postgresql://postgres@127.0.0.1:5432/postgres`` (trust auth) when it answers;
3. a throwaway server this session starts (``initdb`` + ``pg_ctl``) on a free loopback port,
   stopped and deleted at the end. ``RANTAI_TEST_PG_DSN=start`` always takes this path.

Every test database is named ``rantai_test_<pid>_<random>`` and dropped after its test, so
runs sharing one server (CI, parallel sessions) never clash or leave databases behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

PG_DSN_ENV = "RANTAI_TEST_PG_DSN"
PG_DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_PROBE_TIMEOUT_S = 3
PG_START_TIMEOUT_S = 60
PG_START_ATTEMPTS = 3


def _pg_answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=PG_PROBE_TIMEOUT_S, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def _pg_bin_dir() -> Path | None:
    """The bin directory of the newest PostgreSQL installed, or of ``initdb`` on PATH."""

    def major(bin_dir: str) -> int:
        name = Path(bin_dir).parent.name
        return int(name) if name.isdigit() else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major)
    for bin_dir in reversed(candidates):
        if (Path(bin_dir) / "initdb").exists():
            return Path(bin_dir)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _throwaway_pg_server() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary directory; yield its maintenance DSN."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "no PostgreSQL server answers and no initdb is installed: install PostgreSQL, "
            f"set {PG_DSN_ENV}, or deselect with -m 'not postgres'"
        )
    # initdb and postgres refuse to run as root: run them as the postgres OS user then.
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    # Not tmp_path: pytest makes that private to this user, and the server's user needs it.
    base = Path(tempfile.mkdtemp(prefix="rantai-pg-"))
    if as_root:
        shutil.chown(base, user="postgres")
    data_dir, log_file = base / "data", base / "server.log"
    pg_ctl = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
    try:
        _run(
            *run_as,
            *(str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust"),
            *("--encoding=UTF8", "--locale=C", "--no-sync"),
        )
        port = _start_pg(pg_ctl, log_file, socket_dir=base)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run(*pg_ctl, "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as exc:
        log = log_file.read_text() if log_file.exists() else ""
        pytest.fail(f"throwaway PostgreSQL failed: {exc.cmd}\n{exc.stderr}\n{log}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _start_pg(pg_ctl: list[str], log_file: Path, socket_dir: Path) -> int:
    """Start the server on a free port, retrying if another process takes the port first."""
    for attempt in range(PG_START_ATTEMPTS):
        port = _free_loopback_port()
        options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            _run(
                *(*pg_ctl, "-l", str(log_file), "-o", options),
                *("-t", str(PG_START_TIMEOUT_S), "-w", "start"),
            )
        except subprocess.CalledProcessError:
            if attempt == PG_START_ATTEMPTS - 1:
                raise
            continue
        return port
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def postgres_server_dsn() -> Iterator[str]:
    """The maintenance DSN of a PostgreSQL server for this session (see the module doc)."""
    override = os.environ.get(PG_DSN_ENV, "")
    probe = override or PG_DEFAULT_DSN
    if override != "start" and _pg_answers(probe):
        yield probe
        return
    with _throwaway_pg_server() as dsn:
        yield dsn


@contextlib.contextmanager
def fresh_database(server_dsn: str) -> Iterator[str]:
    """A ``postgresql://`` URL of a new, uniquely named, empty database, dropped afterwards."""
    name = f"rantai_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(server_dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        pytest.fail(f"{PG_DSN_ENV} must be a postgresql:// URL")
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def postgres_dsn(postgres_server_dsn: str) -> Iterator[str]:
    """A ``postgresql://`` URL of a new, empty database, dropped after the test."""
    with fresh_database(postgres_server_dsn) as dsn:
        yield dsn
