"""From the API's JSON form of a record (docs/api.md) back to the core's typed record.

The JSON form names fields and writes bytes as lowercase hex (``rantai.core.jsonform``). This
walks the record's type, turns objects into the record's field arrays and hex into bytes,
then lets msgspec build and type-check the record. Fields the SDK does not know are ignored,
so a newer server can add fields without breaking older clients.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

__all__ = ["from_json", "hex_bytes"]

T = TypeVar("T")


def from_json(value: Any, kind: type[T]) -> T:
    """Return the record of type ``kind`` whose JSON form is ``value``.

    Raises msgspec.ValidationError for a missing field, a wrong type or bad hex.
    """
    arrays = _as_arrays(value, msgspec.inspect.type_info(kind))
    result: T = msgspec.convert(arrays, kind, strict=True)
    return result


def hex_bytes(value: Any) -> bytes:
    """Bytes from lowercase hex text; raises msgspec.ValidationError otherwise."""
    if not isinstance(value, str):
        raise msgspec.ValidationError(f"expected hex text, got {type(value).__name__}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise msgspec.ValidationError(f"not hex: {value[:80]!r}") from None


def _as_arrays(value: Any, info: msgspec.inspect.Type) -> Any:
    if isinstance(info, msgspec.inspect.StructType):
        if not isinstance(value, dict):
            raise msgspec.ValidationError(f"expected an object for {info.cls.__name__}")
        missing = [f.name for f in info.fields if f.name not in value]
        if missing:
            raise msgspec.ValidationError(f"{info.cls.__name__}: missing {', '.join(missing)}")
        head = [info.tag] if info.tag is not None else []
        return head + [_as_arrays(value[f.name], f.type) for f in info.fields]
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        if not isinstance(value, list):
            raise msgspec.ValidationError("expected a list")
        return [_as_arrays(v, info.item_type) for v in value]
    if isinstance(info, msgspec.inspect.BytesType):
        return hex_bytes(value)
    if isinstance(info, msgspec.inspect.DictType):
        if not isinstance(value, dict):
            raise msgspec.ValidationError("expected an object")
        return {k: _as_arrays(v, info.value_type) for k, v in value.items()}
    if isinstance(info, msgspec.inspect.UnionType) and value is not None:
        # Optional[X]: convert as X. Unions of scalars (event attributes) need nothing.
        others = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(others) == 1:
            return _as_arrays(value, others[0])
    return value
