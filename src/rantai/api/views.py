"""JSON forms of the records the routes return (shapes in ``rantai.api.schemas``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rantai.core.block import BlockSignature, Header
from rantai.core.bonds import (
    BondState,
    BondTerms,
    Certification,
    bond_key,
    bond_state_key,
    certification_key,
    distribution_kind,
    periods_paid,
    redemption,
)
from rantai.core.encoding import decode
from rantai.core.jsonform import to_json
from rantai.store.base import Store

__all__ = ["bond_schedule", "header_info", "stored_header_info"]


def header_info(header: Header, hash_: bytes, certificate: Sequence[BlockSignature]) -> Any:
    """HeaderInfo: ``{"height", "hash", "header", "certificate"}``."""
    return {
        "height": header.height,
        "hash": hash_.hex(),
        "header": to_json(header),
        "certificate": to_json(list(certificate)),
    }


def stored_header_info(store: Store, height: int) -> Any | None:
    """HeaderInfo of the stored block at ``height``, or ``None``."""
    stored = store.get_header(height)
    if stored is None:
        return None
    hash_, header, certificate = stored
    return header_info(
        decode(header, Header), hash_, decode(certificate, tuple[BlockSignature, ...])
    )


def bond_schedule(values: Mapping[str, Any], code: str) -> Any | None:
    """ScheduleInfo of bond or sukuk ``code`` from its terms in ``values`` (decoded state):
    terms, state, certification, the periods with what has been paid, the redemption; None
    when it has no terms."""
    terms: BondTerms | None = values.get(bond_key(code))
    state: BondState | None = values.get(bond_state_key(code))
    if terms is None or state is None:
        return None
    certification: Certification | None = values.get(certification_key(code))
    redeemed_on, price_bp = redemption(terms, state)
    return {
        "instrument": code,
        "payment_kind": distribution_kind(terms),
        "terms": to_json(terms),
        "state": to_json(state),
        "certification": None if certification is None else to_json(certification),
        "periods": [{**to_json(p), "paid": paid} for p, paid in periods_paid(terms, state)],
        "redemption": {"date": redeemed_on, "price_bp": price_bp},
    }
