"""The ``rantai`` command line: parse, call the node, map results to output and exit codes."""
