"""The JSON form of records, for people and for the CLI and HTTP API: never hashed or signed.

Records become objects with their field names (a transaction body, and a member of a tagged
union such as a rule or a governance action, gains ``"kind"``), byte strings become
lowercase hex. ``body_from_json`` turns that form back into a transaction body,
so a client can say ``{"kind": "transfer", "source": ...}`` and get the canonical record.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rantai.core import codes
from rantai.core.errors import Malformed
from rantai.core.tx import TxBody, body_types

__all__ = ["body_from_json", "to_json"]


def to_json(value: Any) -> Any:
    """``value`` as JSON-ready builtins: records as objects, bytes as hex."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, msgspec.Struct):
        data = {f: to_json(getattr(value, f)) for f in value.__struct_fields__}
        tag = value.__struct_config__.tag
        return {"kind": tag, **data} if isinstance(tag, str) else data
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def body_from_json(kind: str, fields: dict[str, Any]) -> TxBody:
    """The transaction body of ``kind`` with the given named fields.

    Raises Malformed(unknown_kind) for an unknown kind, Malformed(malformed) for missing or
    mistyped fields. The body's own ``check_form`` is not run here.
    """
    kinds = {str(t.__struct_config__.tag): t for t in body_types()}
    body_type = kinds.get(kind)
    if body_type is None:
        raise Malformed(codes.UNKNOWN_KIND, f"unknown kind {kind[:40]!r}")
    try:
        arrays = _as_arrays(fields, msgspec.inspect.type_info(body_type))
        body: TxBody = msgspec.convert(arrays, body_type, strict=True)
    except msgspec.ValidationError as exc:
        raise Malformed(codes.MALFORMED, str(exc)) from None
    return body


def _as_arrays(value: Any, info: msgspec.inspect.Type) -> Any:
    if isinstance(info, msgspec.inspect.StructType):
        if not isinstance(value, dict):
            raise msgspec.ValidationError(f"expected an object for {info.cls.__name__}")
        missing = [f.name for f in info.fields if f.name not in value and f.required]
        if missing:
            raise msgspec.ValidationError(f"missing fields: {', '.join(missing)}")
        unknown = set(value) - {f.name for f in info.fields} - {"kind"}
        if unknown:
            raise msgspec.ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
        head = [info.tag] if info.tag is not None else []
        return head + [_as_arrays(value.get(f.name), f.type) for f in info.fields]
    if isinstance(info, msgspec.inspect.UnionType):
        return _union_as_arrays(value, info)
    if isinstance(info, msgspec.inspect.VarTupleType | msgspec.inspect.ListType):
        if not isinstance(value, list):
            raise msgspec.ValidationError("expected a list")
        return [_as_arrays(v, info.item_type) for v in value]
    if isinstance(info, msgspec.inspect.BytesType) and isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise msgspec.ValidationError(f"not hex: {value[:80]!r}") from None
    return value


def _union_as_arrays(value: Any, info: msgspec.inspect.UnionType) -> Any:
    """A member of ``X | None`` or of a tagged union of records, chosen by ``"kind"``."""
    if value is None and any(isinstance(t, msgspec.inspect.NoneType) for t in info.types):
        return None
    records = [t for t in info.types if isinstance(t, msgspec.inspect.StructType)]
    if len(records) == 1 and records[0].tag is None:
        return _as_arrays(value, records[0])
    if isinstance(value, dict):
        for record in records:
            if record.tag is not None and record.tag == value.get("kind"):
                return _as_arrays(value, record)
        raise msgspec.ValidationError(f"unknown kind {str(value.get('kind'))[:40]!r}")
    return value
