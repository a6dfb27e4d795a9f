"""The blocking client over a fake API backed by a real node: signing, reads, nonces."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest
from tests.sdk.conftest import CHAIN_ID, URL, ClientFactory
from tests.sdk.fake import FakeApi
from tests.support import key_of

from rantai import sdk
from rantai.core import codes
from rantai.core.readauth import READ_FRESHNESS_MS, read_signing_bytes
from rantai.core.tx import build_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import verify
from rantai.node.node import Node

A, B = "inv-0:main", "inv-1:main"


def _sent_envelopes(fake: FakeApi) -> list[bytes]:
    posts = [r for r in fake.requests if r.method == "POST"]
    return [bytes.fromhex(h) for r in posts for h in msgspec.json.decode(r.content)["envelopes"]]


def test_submitted_envelopes_are_build_envelopes_output(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    client = client_for("inv-0")
    bodies = [sdk.transfer(A, B, "BOND1", 100 + i) for i in range(3)]
    results = client.submit(bodies, wait=True)
    key = key_of("inv-0")
    expected = [build_envelope(CHAIN_ID, "inv-0", n, key, b) for n, b in enumerate(bodies)]
    assert _sent_envelopes(fake) == expected
    assert [r.envelope for r in results] == expected
    assert [r.tx_id for r in results] == [sha256(e) for e in expected]
    assert all(r.ok and r.height is not None for r in results), results
    assert client.balance(B, "BOND1").amount == 1_000_000 + 100 + 101 + 102


def test_one_body_gives_one_submission(client_for: ClientFactory) -> None:
    done = client_for("inv-0").submit(sdk.transfer(A, B, "BOND1", 5), wait=True)
    assert isinstance(done, sdk.Submission)
    assert done.ok and done.receipt is not None
    assert done.receipt.events[0].name == "transfer"


def test_a_rejection_is_data(client_for: ClientFactory) -> None:
    done = client_for("inv-0").submit(sdk.transfer(A, B, "BOND1", 10**12), wait=True)
    assert done.admitted and not done.ok
    assert done.receipt is not None and done.receipt.code == codes.INSUFFICIENT_BALANCE


def test_read_signatures_verify_over_read_signing_bytes(
    client_for: ClientFactory, fake: FakeApi
) -> None:
    client = client_for("inv-0")
    client.balance(A, "BOND1", height=3)
    client.balance(A, "BOND1", height=3)
    signed = [r for r in fake.requests if r.url.path.startswith("/v1/balances/")]
    assert len(signed) == 2
    now_ms = time.time_ns() // 1_000_000
    for request in signed:
        h = request.headers
        assert h["rantai-party"] == "inv-0"
        assert bytes.fromhex(h["rantai-key"]) == key_of("inv-0").public_key
        timestamp_ms = int(h["rantai-timestamp"])
        assert abs(now_ms - timestamp_ms) < READ_FRESHNESS_MS
        assert request.url.raw_path == b"/v1/balances/inv-0:main/BOND1?height=3"
        message = read_signing_bytes(
            CHAIN_ID,
            "GET",
            "/v1/balances/inv-0:main/BOND1",
            "height=3",
            b"",
            timestamp_ms,
            bytes.fromhex(h["rantai-nonce"]),
            "inv-0",
        )
        assert verify(key_of("inv-0").public_key, message, bytes.fromhex(h["rantai-signature"]))
    assert len({r.headers["rantai-nonce"] for r in signed}) == 2  # a fresh nonce each time
    assert all(len(bytes.fromhex(r.headers["rantai-nonce"])) == 16 for r in signed)


def test_public_reads_are_not_signed(client_for: ClientFactory, fake: FakeApi) -> None:
    client = client_for("inv-0")
    assert client.health().chain_id == CHAIN_ID
    assert client.header(0) is not None
    public = [r for r in fake.requests if not r.url.path.startswith("/v1/balances")]
    assert public and all("rantai-signature" not in r.headers for r in public)


def test_chain_id_and_executors_are_learned_once(client_for: ClientFactory, fake: FakeApi) -> None:
    client = client_for("inv-0")
    client.balance(A, "BOND1")
    client.balance(B, "BOND1")
    client.submit(sdk.transfer(A, B, "BOND1", 1))
    assert fake.count("/v1/chain") == 1


def test_configured_trust_asks_the_server_nothing(client_for: ClientFactory, fake: FakeApi) -> None:
    client = client_for("inv-0", chain_id=CHAIN_ID, executors=[key_of("node").public_key])
    client.balance(A, "BOND1")
    assert fake.count("/v1/chain") == 0


def test_a_server_on_another_chain_is_refused(client_for: ClientFactory) -> None:
    client = client_for("inv-0", chain_id="another-chain")
    with pytest.raises(sdk.UnexpectedResponse, match="another-chain"):
        client.balance(A, "BOND1")


def test_a_header_by_an_untrusted_executor_is_refused(client_for: ClientFactory) -> None:
    client = client_for("inv-0", chain_id=CHAIN_ID, executors=[key_of("stranger").public_key])
    with pytest.raises(sdk.ProofError, match="no valid signature by an executor"):
        client.header(0)


def test_headers_and_head(client_for: ClientFactory, node: Node) -> None:
    client = client_for(None)
    head = client.header()
    assert head is not None and node.ledger.head is not None
    assert head.height == node.ledger.head.height
    assert head.hash == node.ledger.head_hash
    assert client.header(head.height + 1) is None


def test_nonces_are_counted_locally_after_the_first_fetch(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    client = client_for("inv-0")
    client.submit([sdk.transfer(A, B, "BOND1", 1), sdk.transfer(A, B, "BOND1", 2)])
    client.submit(sdk.transfer(A, B, "BOND1", 3))  # not yet committed: nonce 2 from the count
    assert fake.count(r"/v1/parties/inv-0/nonce") == 1
    while node.pending_count:
        node.produce_block()
    assert client.nonce() == 3
    sent = [msgspec.msgpack.decode(e)[2] for e in _sent_envelopes(fake)]
    assert sent == [0, 1, 2]


def test_a_refused_envelope_gives_its_nonce_back(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    client = client_for("inv-0")
    fake.refuse = lambda index: "pending_full" if index == 1 else None
    first = client.submit([sdk.transfer(A, B, "BOND1", n) for n in (1, 2, 3)], wait=True)
    assert [r.code for r in first] == ["ok", "pending_full", "ok"]
    assert first[0].ok
    # Nonce 2 was ordered ahead of the missing nonce 1: a bad_nonce receipt, nonce unused.
    assert first[2].receipt is not None and first[2].receipt.code == codes.BAD_NONCE
    fake.refuse = lambda index: None
    again = client.submit(
        [sdk.transfer(A, B, "BOND1", 2), sdk.transfer(A, B, "BOND1", 3)], wait=True
    )
    assert all(r.ok for r in again), again
    assert client.nonce() == 3


def test_a_stale_count_is_dropped_and_fetched_again(
    client_for: ClientFactory, fake: FakeApi
) -> None:
    one, other = client_for("inv-0"), client_for("inv-0")  # two clients, one key
    assert one.submit(sdk.transfer(A, B, "BOND1", 1), wait=True).ok
    assert other.submit(sdk.transfer(A, B, "BOND1", 1), wait=True).ok
    stale = one.submit(sdk.transfer(A, B, "BOND1", 1), wait=True)
    assert stale.code == codes.BAD_NONCE  # refused at admission: nonce 1 is used
    assert one.submit(sdk.transfer(A, B, "BOND1", 1), wait=True).ok  # asked the node again


def test_submit_envelopes_passes_them_through(client_for: ClientFactory, fake: FakeApi) -> None:
    raw = build_envelope(CHAIN_ID, "inv-1", 0, key_of("inv-1"), sdk.transfer(B, A, "BOND1", 7))
    (done,) = client_for(None).submit_envelopes([raw], wait=True)
    assert done.ok and done.tx_id == sha256(raw)
    assert fake.count(r"/v1/parties/.*/nonce") == 0


def test_submit_as_another_signer(client_for: ClientFactory, fake: FakeApi) -> None:
    client = client_for(None)
    signer = sdk.PartyKey("inv-1", key_of("inv-1"))
    done = client.submit(sdk.transfer(B, A, "BOND1", 7), wait=True, signer=signer)
    assert done.ok
    nonce_read = next(r for r in fake.requests if r.url.path.endswith("/nonce"))
    assert nonce_read.headers["rantai-party"] == "inv-1"  # the sender reads its own nonce


def test_signing_needs_a_key(client_for: ClientFactory) -> None:
    with pytest.raises(ValueError, match="signing needs a key"):
        client_for(None).submit(sdk.transfer(A, B, "BOND1", 1))


def test_an_invalid_body_is_never_sent(client_for: ClientFactory, fake: FakeApi) -> None:
    from rantai.core.kinds.transfers import Transfer

    with pytest.raises(sdk.InvalidTransaction) as caught:
        client_for("inv-0").submit(Transfer(A, B, "BOND1", 0, ""))
    assert caught.value.code == "bad_amount"
    assert not fake.requests


def test_transaction_and_wait_return_proven_records(client_for: ClientFactory, node: Node) -> None:
    client = client_for("inv-0")
    submitted = client.submit([sdk.transfer(A, B, "BOND1", n) for n in (1, 2)])
    ids = [s.tx_id for s in submitted]
    assert all(i is not None for i in ids)
    while node.pending_count:
        node.produce_block()
    found = client.wait([i for i in ids if i is not None], timeout_s=5)
    assert set(found) == set(ids)
    tx = found[submitted[1].tx_id]  # type: ignore[index]
    assert tx.sender == "inv-0" and tx.nonce == 1
    assert tx.body == sdk.transfer(A, B, "BOND1", 2)
    assert tx.receipt.code == codes.OK
    assert client.receipt(tx.tx_id) == tx.receipt


def test_wait_gives_up_after_its_timeout(client_for: ClientFactory) -> None:
    client = client_for("inv-0")
    started = time.monotonic()
    assert client.wait([bytes(32)], timeout_s=0.3) == {}
    assert 0.3 <= time.monotonic() - started < 3
    assert client.transaction(bytes(32)) is None


def test_client_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="both party and key"):
        sdk.Client(URL, party="inv-0")
    with pytest.raises(ValueError, match="at least one"):
        sdk.Client(URL, executors=[])


def test_client_is_a_context_manager(fake: FakeApi) -> None:
    with sdk.Client(URL, transport=httpx.MockTransport(fake)) as client:
        assert client.health().status == "ok"


def test_threads_sharing_a_client_submit_in_nonce_order(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = client_for("inv-0")

    def work(n: int) -> list[sdk.Submission]:
        return [client.submit(sdk.transfer(A, B, "BOND1", 1 + n * 10 + i)) for i in range(5)]

    with ThreadPoolExecutor(8) as pool:
        submitted = [s for batch in pool.map(work, range(8)) for s in batch]
    assert all(s.admitted for s in submitted)
    nonces = sorted(msgspec.msgpack.decode(s.envelope)[2] for s in submitted)
    assert nonces == list(range(40))
    while node.pending_count:
        node.produce_block()
    found = client.wait([s.tx_id for s in submitted if s.tx_id], timeout_s=5)
    assert sorted(t.receipt.code for t in found.values()) == [codes.OK] * 40


def test_large_submits_are_split_within_the_apis_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    from rantai.sdk import _ops

    monkeypatch.setattr(_ops, "SUBMIT_ENVELOPES_MAX", 3)
    monkeypatch.setattr(_ops, "SUBMIT_BODY_BYTES_MAX", 50)
    raws = [b"x" * 5] * 7 + [b"y" * 20, b"z"]  # 13 body bytes each, then 43 and 5
    chunks = _ops._chunks(raws)
    assert [len(c) for c in chunks] == [3, 3, 1, 2]  # y and z fit in 50 together
    assert [i for c in chunks for i in c] == list(range(len(raws)))


def test_stream_resumes_after_a_height(fake: FakeApi) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/stream/headers":
            return fake(request)
        seen.append(request)
        return httpx.Response(200, content=b"retry: 2000\n: connected\n\n")

    with sdk.Client(URL, transport=httpx.MockTransport(handler)) as client:
        with client.stream_headers(after=41) as headers:
            assert list(headers) == []
        with client.stream_headers() as headers:
            assert list(headers) == []
    assert seen[0].headers["last-event-id"] == "41"
    assert "last-event-id" not in seen[1].headers


def test_stream_errors_are_api_errors(fake: FakeApi) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/stream/headers":
            return httpx.Response(503, json={"code": "overloaded", "message": "too many streams"})
        return fake(request)

    with (
        sdk.Client(URL, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(sdk.Unavailable, match="overloaded"),
        client.stream_headers(),
    ):
        pass
