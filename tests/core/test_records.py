"""Structs the cyclic collector does not track (``gc=False``) cannot be part of a cycle.

An untracked object in a reference cycle is never freed. A struct of str, int, bytes, tuples
and other such structs cannot be in one, nor can a container of such atoms (a dict of ints):
nothing in it can refer back. A container that could hold the struct, or anything at all,
could. Every ``gc=False`` struct of the project is checked, so a new one is too.
"""

from __future__ import annotations

import gc

import msgspec
import pytest

import rantai.core.kinds  # noqa: F401  (imports every state record: the walk sees them)
from rantai.core import claims, records
from rantai.core.state import namespace_type
from rantai.supervision import events, monitors

_ATOMS = (
    msgspec.inspect.StrType,
    msgspec.inspect.IntType,
    msgspec.inspect.BytesType,
    msgspec.inspect.BoolType,
    msgspec.inspect.NoneType,
)
_CONTAINERS = (
    msgspec.inspect.DictType,
    msgspec.inspect.ListType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
)


def _could_refer_back(info: msgspec.inspect.Type) -> list[str]:
    """What in a field of type ``info`` could hold a reference leading back to its struct."""
    if isinstance(info, _ATOMS):
        return []
    if isinstance(info, msgspec.inspect.VarTupleType):
        return _could_refer_back(info.item_type)
    if isinstance(info, msgspec.inspect.TupleType):
        return [p for item in info.item_types for p in _could_refer_back(item)]
    if isinstance(info, msgspec.inspect.UnionType):
        return [p for item in info.types for p in _could_refer_back(item)]
    if isinstance(info, msgspec.inspect.StructType):
        return [p for field in info.fields for p in _could_refer_back(field.type)]
    if isinstance(info, msgspec.inspect.DictType):
        items = (info.key_type, info.value_type)
        return [] if all(isinstance(item, _ATOMS) for item in items) else ["dict"]
    if isinstance(info, _CONTAINERS):
        return [] if isinstance(info.item_type, _ATOMS) else [type(info).__name__]
    return [type(info).__name__]


def _untracked_structs() -> list[type]:
    found: list[type] = []
    pending = list(msgspec.Struct.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("rantai.") and cls.__struct_config__.gc is False:
            found.append(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


UNTRACKED = _untracked_structs()


def test_the_walk_finds_the_untracked_structs() -> None:
    for struct in (records.Party, claims.Claim, events.CommittedMovement, monitors._Outflow):
        assert struct in UNTRACKED


@pytest.mark.parametrize("struct", UNTRACKED, ids=lambda c: c.__qualname__)
def test_an_untracked_struct_cannot_be_in_a_cycle(struct: type) -> None:
    assert _could_refer_back(msgspec.inspect.type_info(struct)) == []


class _Holder(msgspec.Struct, gc=False):
    items: list[object]  # could hold anything, the struct itself included
    by_name: dict[str, _Holder]
    counts: dict[int, int]  # cannot


def test_a_field_that_could_refer_back_is_caught() -> None:
    assert _could_refer_back(msgspec.inspect.type_info(_Holder)) == ["ListType", "dict"]


def test_the_state_records_read_by_every_transfer_are_untracked() -> None:
    for key in ("party/p", "account/p:main", "claim/p/kyc/k", "inst/X", "chain/config"):
        assert namespace_type(key) in UNTRACKED
    party = records.Party("p", "person", "P", (b"k" * 32,), ("investor",), "registrar", 1)
    assert not gc.is_tracked(party)
