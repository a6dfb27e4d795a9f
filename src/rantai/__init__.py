"""Rantai: a regulator-grade ledger for tokenized financial instruments."""

__version__ = "0.1.0"
