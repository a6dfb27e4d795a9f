"""The canonical encoding: MessagePack with one representation for every value.

Specified in docs/encoding.md. In short: records are arrays of their fields in declared
order; a transaction body is an array whose first element is its kind tag; integers,
strings, byte strings and arrays use their shortest MessagePack form; maps (only in event
attributes) have keys sorted by their UTF-8 bytes; there are no floats.

``decode`` re-encodes what it decoded and refuses input that differs, so every value has
exactly one byte string, and a hash or signature over it is unambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from rantai.core import codes
from rantai.core.errors import Malformed

__all__ = ["decode", "decode_known", "encode", "known_decoder"]

T = TypeVar("T")

_encoder = msgspec.msgpack.Encoder(order="sorted")
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}
_by_identity: dict[int, tuple[Any, msgspec.msgpack.Decoder[Any]]] = {}
_BY_IDENTITY_MAX = 1_024

encode = _encoder.encode
"""Return the canonical bytes of ``value`` (a record, int, str, bytes, list or None)."""


def decode(data: bytes, kind: type[T]) -> T:
    """Decode canonical ``data`` as ``kind``.

    Raises:
        Malformed(malformed): not a valid encoding of ``kind``.
        Malformed(non_canonical): valid, but not the canonical bytes of the value.
    """
    try:
        value: T = _decoder(kind).decode(data)
    except msgspec.ValidationError as exc:
        raise Malformed(codes.MALFORMED, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise Malformed(codes.MALFORMED, str(exc)) from None
    if _encoder.encode(value) != data:
        raise Malformed(codes.NON_CANONICAL, "not the canonical encoding")
    return value


def decode_known(data: bytes, kind: type[T]) -> T:
    """Decode ``data`` that ``decode`` has accepted as ``kind`` before (in another process,
    say): the canonical check, which would pass again, is skipped. Raises msgspec's errors."""
    value: T = _decoder(kind).decode(data)
    return value


def known_decoder(kind: type[T]) -> Callable[[bytes], T]:
    """``decode_known`` for one ``kind``, as one callable."""
    decode_one: Callable[[bytes], T] = _decoder(kind).decode
    return decode_one


def _decoder(kind: Any) -> msgspec.msgpack.Decoder[Any]:
    # By identity first: hashing the union of the ~70 transaction kinds hashes each of them,
    # every time (~3 us). The kind is kept with its decoder, so its id is not reused while
    # cached; the cache is bounded, as a union written inline is a new object each time.
    known = _by_identity.get(id(kind))
    if known is not None and known[0] is kind:
        return known[1]
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    if len(_by_identity) < _BY_IDENTITY_MAX:
        _by_identity[id(kind)] = (kind, decoder)
    return decoder
