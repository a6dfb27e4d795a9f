"""Holder ballots: votes weighted by units at a record date, one vote per minor unit.

An issuer (or its agent) opens a ballot on a record date of its instrument — a sukukholder
consent, a bondholder meeting — with a question, up to ``BALLOT_OPTIONS_MAX`` options and a
closing time. The owner of each account that held units at the record casts that account's
units for one option, once; the tally moves with each vote, so closing is one write. An
omnibus account votes its units as one (the custodian gathers its clients' instructions off
the ledger).

| key | value |
|---|---|
| ``ballot/<instrument>/<ballot>`` | ``Ballot`` |
| ``vote/<instrument>/<ballot>/<account>`` | int: the option the account chose |
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core.state import register_namespace

__all__ = ["BALLOT_CLOSED", "BALLOT_OPEN", "Ballot", "ballot_key", "vote_key"]

BALLOT_OPEN: Final = "open"
BALLOT_CLOSED: Final = "closed"


class Ballot(msgspec.Struct, frozen=True, array_like=True):
    instrument: str
    id: str
    record: str
    question: str
    options: tuple[str, ...]
    closes_ms: int
    tallies: tuple[int, ...]  # units cast for each option
    voters: int  # accounts that voted
    eligible_units: int  # units at the record: the denominator of turnout
    status: str  # open | closed
    opened_by: str


def ballot_key(instrument: str, ballot: str) -> str:
    return f"ballot/{instrument}/{ballot}"


def vote_key(instrument: str, ballot: str, account: str) -> str:
    return f"vote/{instrument}/{ballot}/{account}"


register_namespace("ballot", Ballot)
register_namespace("vote", int)
