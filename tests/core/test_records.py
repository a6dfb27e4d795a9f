"""Records the cyclic collector does not track (``gc=False``) hold only immutable values.

An untracked object in a reference cycle is never freed. A record of str, int, bytes, tuples
and other such records cannot be in one; a list, dict or set field could, so none may appear.
"""

from __future__ import annotations

import gc

import msgspec
import pytest

from rantai.core import claims, records
from rantai.core.state import namespace_type
from rantai.supervision import monitors

_IMMUTABLE = (
    msgspec.inspect.StrType,
    msgspec.inspect.IntType,
    msgspec.inspect.BytesType,
    msgspec.inspect.BoolType,
    msgspec.inspect.NoneType,
)


def _mutable_parts(info: msgspec.inspect.Type) -> list[str]:
    if isinstance(info, _IMMUTABLE):
        return []
    if isinstance(info, msgspec.inspect.VarTupleType):
        return _mutable_parts(info.item_type)
    if isinstance(info, msgspec.inspect.TupleType):
        return [p for item in info.item_types for p in _mutable_parts(item)]
    if isinstance(info, msgspec.inspect.UnionType):
        return [p for item in info.types for p in _mutable_parts(item)]
    if isinstance(info, msgspec.inspect.StructType):
        return [p for field in info.fields for p in _mutable_parts(field.type)]
    return [type(info).__name__]


UNTRACKED_RECORDS = [
    records.Party,
    records.Account,
    records.Instrument,
    records.Agency,
    records.Threshold,
    records.ChainConfig,
    claims.Claim,
]


@pytest.mark.parametrize("record", UNTRACKED_RECORDS, ids=lambda r: r.__name__)
def test_untracked_records_hold_only_immutable_values(record: type) -> None:
    assert record.__struct_config__.gc is False
    assert record.__struct_config__.frozen
    assert _mutable_parts(msgspec.inspect.type_info(record)) == []


def test_the_state_records_read_by_every_transfer_are_untracked() -> None:
    for key in ("party/p", "account/p:main", "claim/p/kyc/k", "inst/X", "chain/config"):
        assert namespace_type(key) in UNTRACKED_RECORDS
    party = records.Party("p", "person", "P", (b"k" * 32,), ("investor",), "registrar", 1)
    assert not gc.is_tracked(party)


def test_a_monitors_outflow_is_untracked_and_refers_only_to_ints() -> None:
    # Its one container is a dict of window index -> amount: nothing that could refer back.
    info = msgspec.inspect.type_info(monitors._Outflow)
    assert isinstance(info, msgspec.inspect.StructType)
    kinds = {field.name: field.type for field in info.fields}
    totals = kinds.pop("totals")
    assert isinstance(totals, msgspec.inspect.DictType)
    assert _mutable_parts(totals.key_type) == _mutable_parts(totals.value_type) == []
    assert all(_mutable_parts(kind) == [] for kind in kinds.values())
    assert not gc.is_tracked(monitors._Outflow(0, {1: 2}))
