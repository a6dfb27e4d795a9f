"""The two kinds of failure in the core.

```
Exception
├── Rejection          expected: a transaction is refused; carries a stable reason ``code``
│   └── Malformed      the envelope itself is bad; it never reaches a block
└── InvariantError     a programmer error or corrupt state: the node must stop
```
A ``Rejection`` leaves state unchanged. An ``InvariantError`` is raised through
``invariant()`` (not ``assert``, which ``python -O`` strips) so that corrupt state is never
committed.
"""

from __future__ import annotations

__all__ = ["InvariantError", "Malformed", "Rejection", "invariant"]


class Rejection(Exception):
    """A transaction is refused, for the reason named by ``code`` (see ``codes``)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class Malformed(Rejection):
    """An envelope that fails the stateless checks; it is refused before ordering."""


class InvariantError(Exception):
    """A broken invariant: the node stops rather than commit corrupt state."""


def invariant(condition: bool, message: str) -> None:
    """Raise ``InvariantError(message)`` unless ``condition`` holds."""
    if not condition:
        raise InvariantError(message)
