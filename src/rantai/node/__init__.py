"""The node: admission (stateless checks in a process pool), ordering, block execution."""
