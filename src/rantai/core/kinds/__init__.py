"""Every transaction kind, one module per family. Importing this package registers them all.

To add a kind: write a ``TxBody`` subclass with its tag in a module here and import the
module below. Nothing else changes.
"""

from rantai.core.kinds import (
    bonds,
    books,
    cash,
    claims,
    funds,
    genesis,
    governance,
    instruments,
    lifecycle,
    parties,
    policies,
    settlement,
    transfers,
)

__all__ = [
    "bonds",
    "books",
    "cash",
    "claims",
    "funds",
    "genesis",
    "governance",
    "instruments",
    "lifecycle",
    "parties",
    "policies",
    "settlement",
    "transfers",
]
