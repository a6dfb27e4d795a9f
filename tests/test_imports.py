"""Every module imports on its own, first: no import cycle hides behind a lucky import order."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import rantai

SCRIPT = """
import importlib, sys
failures = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "rantai" or m.startswith("rantai.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:  # report every module, not just the first
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def test_every_module_imports_first() -> None:
    names = sorted(m.name for m in pkgutil.walk_packages(rantai.__path__, "rantai."))
    assert len(names) > 40
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
