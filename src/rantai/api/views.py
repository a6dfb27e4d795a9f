"""JSON forms of the records the routes return (shapes in ``rantai.api.schemas``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rantai.core.block import BlockSignature, Header
from rantai.core.encoding import decode
from rantai.core.jsonform import to_json
from rantai.store.base import Store

__all__ = ["header_info", "stored_header_info"]


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
