"""``rantai up --sanctions-list``: a list that cannot be read stops the command before it
creates or serves anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rantai.cli.main import app


def test_up_refuses_an_unreadable_sanctions_list(tmp_path: Path) -> None:
    bad = tmp_path / "list.xml"
    bad.write_bytes(b"<SDN_LIST/>")
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["up", "--data", str(data), "--sanctions-list", str(bad)])
    assert result.exit_code == 2, result.output
    assert "sanctions list refused" in result.output
    assert not data.exists()
