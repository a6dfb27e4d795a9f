"""Schemathesis against the app's own /openapi.json, in-process: generated requests (valid
and invalid) never get a 5xx, and every response matches the documented schema.

The header stream is left out: it never ends, which is its contract. Signed routes mostly
answer 401 to generated signatures; the signed-read and authorization tests cover them with
real signatures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from tests.api.support import World, app_for, build_world, ledger_fingerprint
from tests.support import CHAIN_ID, key_of

from rantai.api import create_app
from rantai.core.readauth import read_signing_bytes

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(Path(tmp_path_factory.mktemp("schema")) / "chain")
    try:
        yield built
    finally:
        built.node.stop()
        built.node.store.close()


@pytest.fixture(scope="module")
def api_schema(world: World) -> Iterator[schemathesis.BaseSchema]:
    yield schemathesis.openapi.from_asgi("/openapi.json", app_for(world))
    schemathesis_asgi.shutdown_lifespans()


# Every operation but the endless header stream; test_operations_are_all_listed keeps this
# list in step with the app. (Schemathesis's lazy pytest loader does not run on pytest 9.2,
# so each operation's strategy is driven by hand.)
OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/v1/chain"),
    ("GET", "/v1/headers"),
    ("GET", "/v1/headers/{height}"),
    ("GET", "/v1/instruments"),
    ("GET", "/v1/instruments/{code}"),
    ("POST", "/v1/transactions"),
    ("GET", "/v1/parties/{party_id}"),
    ("GET", "/v1/parties/{party_id}/nonce"),
    ("GET", "/v1/parties"),
    ("GET", "/v1/accounts/{account}/balances"),
    ("GET", "/v1/balances/{account}/{instrument}"),
    ("GET", "/v1/instruments/{code}/holders"),
    ("GET", "/v1/instruments/{code}/stats"),
    ("GET", "/v1/transactions/{tx_id}"),
    ("GET", "/v1/blocks/{height}"),
    ("GET", "/v1/access-log"),
    ("GET", "/v1/instruments/{code}/concentration"),
    ("GET", "/v1/instruments/{code}/register.csv"),
    ("GET", "/v1/instruments/{code}/flows"),
    ("GET", "/v1/instruments/{code}/volume"),
    ("GET", "/v1/reports/settlement-fails"),
    ("GET", "/v1/reports/travel"),
    ("GET", "/v1/reports/access-log"),
    ("GET", "/v1/alerts"),
    ("GET", "/v1/alerts/{alert_id}"),
    ("GET", "/v1/settlements"),
    ("GET", "/v1/settlements/{instruction_id}"),
    ("GET", "/v1/settlements/{instruction_id}/sese.025"),
    ("GET", "/v1/settlements/{instruction_id}/pacs.009"),
    ("POST", "/v1/iso20022/sese.023"),
    ("GET", "/v1/instruments/{code}/schedule"),
    ("GET", "/v1/instruments/{code}/records/{name}"),
    ("GET", "/v1/instruments/{code}/ballots/{ballot}"),
    ("GET", "/v1/distributions/{distribution_id}"),
    # Dry runs: signed over their body, which these generated cases cannot sign; they check
    # that unsigned and malformed requests get documented 4xx answers (tests/api/test_dryrun.py
    # covers the signed ones).
    ("POST", "/v1/explain"),
    ("POST", "/v1/instruments/{code}/what-if"),
    ("POST", "/v1/alerts/{alert_id}/status"),  # signed over its body, like the dry runs
]
NO_INPUT = {"/health", "/metrics", "/v1/chain"}  # nothing to make invalid: positive only
# "known": positive cases with the path naming things that exist, so that 200 bodies of
# routes with ids get checked too (random ids are nearly always 404).
KNOWN = "known"
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE, KNOWN)
    if mode is GenerationMode.POSITIVE
    or (mode is GenerationMode.NEGATIVE and path not in NO_INPUT)
    or (mode == KNOWN and "{" in path)
]
SIGNED = {path for _, path in OPERATIONS if path.startswith(("/v1/parties", "/v1/accounts"))} | {
    "/v1/balances/{account}/{instrument}",
    "/v1/instruments/{code}/holders",
    "/v1/instruments/{code}/stats",
    "/v1/transactions/{tx_id}",
    "/v1/blocks/{height}",
    "/v1/access-log",
    "/v1/alerts",
    "/v1/alerts/{alert_id}",
    "/v1/settlements",
    "/v1/settlements/{instruction_id}",
    "/v1/settlements/{instruction_id}/sese.025",
    "/v1/settlements/{instruction_id}/pacs.009",
}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=str)
def test_every_response_matches_the_schema(
    api_schema: schemathesis.BaseSchema,
    world: World,
    method: str,
    path: str,
    mode: GenerationMode | str,
) -> None:
    operation = api_schema[path][method]
    before = ledger_fingerprint(world.node)[:2]
    if mode == KNOWN:
        known = {
            "party_id": "inv-0",
            "account": "inv-0:main",
            "instrument": "BOND1",
            "code": "BOND1",
            "tx_id": world.transfer_tx,
            "height": "head",
        }
        names = {p.name for p in operation.iter_parameters() if p.location == "path"}
        strategy = operation.as_strategy(
            path_parameters={k: v for k, v in known.items() if k in names}
        )
    else:
        assert isinstance(mode, GenerationMode)
        strategy = operation.as_strategy(generation_mode=mode)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        if mode is not GenerationMode.NEGATIVE and path in SIGNED:
            case.headers = {**(case.headers or {}), **_signed_as_agency(case, world)}
        case.call_and_validate(checks=CHECKS)

    check()
    if method == "GET":
        assert ledger_fingerprint(world.node)[:2] == before


def _signed_as_agency(case: schemathesis.Case, world: World) -> dict[str, str]:
    """Valid read signatures for ``case`` as the securities commission, over the path and
    query exactly as the test client will send them, so that signed routes answer with data
    (or 400/403/404) rather than 401 and their bodies get checked too."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    prepared = requests.Request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params")
    ).prepare()
    target = prepared.path_url
    path, _, query = target.partition("?")
    nonce = os.urandom(16)
    now = world.clock.now_ms
    key = key_of("SC")
    message = read_signing_bytes(CHAIN_ID, case.method, path, query, b"", now, nonce, "SC")
    return {
        "Rantai-Party": "SC",
        "Rantai-Key": key.public_key.hex(),
        "Rantai-Timestamp": str(now),
        "Rantai-Nonce": nonce.hex(),
        "Rantai-Signature": key.sign(message).hex(),
    }


def test_operations_are_all_listed(api_schema: schemathesis.BaseSchema) -> None:
    found = {
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    }
    assert found == {*OPERATIONS, ("GET", "/v1/stream/headers")}


def test_the_schema_documents_every_route(world: World) -> None:
    spec = create_app(world.node).openapi()
    assert spec["openapi"].startswith("3.")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "200" in responses, (method, path)
            if path not in ("/health", "/metrics"):
                assert {"400", "503"} & set(responses), (method, path)
