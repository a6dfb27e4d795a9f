"""The ledger's pure, deterministic core: a readable specification of the state machine.

Nothing here does I/O, reads a clock or draws randomness (an import-linter contract checks it).
"""
