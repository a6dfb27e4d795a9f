"""Error mapping: the API's ``{"code", "message"}`` and HTTP status to the SDK's exceptions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import msgspec
import pytest
from tests.support import key_of

from rantai import sdk

URL = "http://rantai.test"
CHAIN_ID = "rantai-test"
TRUST = {"chain_id": CHAIN_ID, "executors": [key_of("node").public_key]}

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def client_with() -> Iterator[Callable[[Handler], sdk.Client]]:
    made: list[sdk.Client] = []

    def make(handler: Handler) -> sdk.Client:
        client = sdk.Client(
            URL, party="inv-0", key=key_of("inv-0"), transport=httpx.MockTransport(handler), **TRUST
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _answer(status: int, code: str, message: str = "text") -> Handler:
    return lambda request: httpx.Response(status, json={"code": code, "message": message})


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "malformed", sdk.Rejected),
        (400, "bad_query", sdk.Rejected),
        (401, "unauthenticated", sdk.Unauthenticated),
        (401, "stale_request", sdk.Unauthenticated),
        (401, "replayed_request", sdk.Unauthenticated),
        (403, "forbidden", sdk.Forbidden),
        (404, "not_found", sdk.NotFound),
        (405, "method_not_allowed", sdk.ApiError),
        (409, "bad_nonce", sdk.Rejected),
        (413, "too_large", sdk.Rejected),
        (422, "wrong_chain", sdk.Rejected),
        (422, "bad_signature", sdk.Rejected),
        (500, "internal", sdk.ApiError),
        (503, "pending_full", sdk.Unavailable),
        (503, "no_genesis", sdk.Unavailable),
    ],
)
def test_api_errors_map_to_classes_with_code_message_status(
    client_with: Callable[[Handler], sdk.Client], status: int, code: str, cls: type[sdk.ApiError]
) -> None:
    client = client_with(_answer(status, code, "what happened"))
    with pytest.raises(cls) as caught:
        client.balance("inv-0:main", "BOND1")
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, sdk.ApiError) and isinstance(error, sdk.RantaiError)
    assert (error.code, error.message, error.status) == (code, "what happened", status)
    assert code in str(error) and str(status) in str(error)


def test_lookups_by_id_return_none_when_not_found(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    client = client_with(_answer(404, "not_found"))
    assert client.party("nobody") is None
    assert client.instrument("NONE") is None
    assert client.header(10**6) is None
    assert client.transaction(bytes(32)) is None
    assert client.receipt(bytes(32)) is None


def test_a_body_that_is_not_the_api_shape_keeps_its_text(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    client = client_with(lambda request: httpx.Response(404, text="<html>proxy says no</html>"))
    with pytest.raises(sdk.NotFound) as caught:
        client.party("anyone")  # not the API's not_found: a wrong URL must not read as None
    assert caught.value.code == "http_404"
    assert "proxy says no" in caught.value.message


def test_transport_failures_are_transport_errors(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(sdk.TransportError, match="connection refused") as caught:
        client_with(refuse).health()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_answers_off_the_contract_are_unexpected_responses(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    with pytest.raises(sdk.UnexpectedResponse, match="not JSON"):
        client_with(lambda r: httpx.Response(200, text="hello")).health()
    with pytest.raises(sdk.UnexpectedResponse, match="KeyError"):
        client_with(lambda r: httpx.Response(200, json={"status": "ok"})).health()


def test_a_whole_submit_refused_gives_the_nonces_back(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    sent: list[int] = []
    answers = iter(
        [
            httpx.Response(503, json={"code": "pending_full", "message": "busy"}),
            None,  # then admit
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/nonce"):
            return httpx.Response(200, json={"party": "inv-0", "nonce": 4})
        envelopes = [bytes.fromhex(h) for h in msgspec.json.decode(request.content)["envelopes"]]
        sent.extend(msgspec.msgpack.decode(e)[2] for e in envelopes)
        answer = next(answers)
        if answer is not None:
            return answer
        return httpx.Response(
            200,
            json={
                "results": [
                    {"tx_id": None, "code": "ok", "message": "", "height": None, "receipt": None}
                    for _ in envelopes
                ]
            },
        )

    client = client_with(handler)
    body = sdk.transfer("inv-0:main", "inv-1:main", "BOND1", 1)
    with pytest.raises(sdk.Unavailable):
        client.submit([body, body])
    client.submit([body, body])
    assert sent == [4, 5, 4, 5]


def test_a_lost_submit_forgets_the_count(client_with: Callable[[Handler], sdk.Client]) -> None:
    nonce_reads = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal nonce_reads
        if request.url.path.endswith("/nonce"):
            nonce_reads += 1
            return httpx.Response(200, json={"party": "inv-0", "nonce": 0})
        raise httpx.ReadTimeout("no answer", request=request)

    client = client_with(handler)
    body = sdk.transfer("inv-0:main", "inv-1:main", "BOND1", 1)
    for _ in range(2):
        with pytest.raises(sdk.TransportError):
            client.submit(body)
    assert nonce_reads == 2  # admitted or not is unknown: ask the node each time


def test_submit_results_must_match_the_envelopes(
    client_with: Callable[[Handler], sdk.Client],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/nonce"):
            return httpx.Response(200, json={"party": "inv-0", "nonce": 0})
        return httpx.Response(
            200,
            json={
                "results": [
                    {
                        "tx_id": "00" * 32,
                        "code": "ok",
                        "message": "",
                        "height": None,
                        "receipt": None,
                    }
                ]
            },
        )

    with pytest.raises(sdk.UnexpectedResponse, match="not the hash of the envelope"):
        client_with(handler).submit(sdk.transfer("inv-0:main", "inv-1:main", "BOND1", 1))
