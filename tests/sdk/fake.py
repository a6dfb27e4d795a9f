"""A few routes of docs/api.md served straight from a real node, for ``httpx.MockTransport``.

Not the API: just enough of its JSON shapes, built from ``Reader`` answers, that the SDK's
checks run against real headers and proofs without the server. ``tamper`` rewrites a response
body before it is sent, to see what the client does with a lying server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from rantai.core.block import BlockSignature, Header, Receipt
from rantai.core.encoding import decode
from rantai.core.jsonform import to_json
from rantai.core.records import balance_key, nonce_key
from rantai.core.tx import decode_envelope
from rantai.node.node import Node
from rantai.node.reads import Reader

Tamper = Callable[[str, Any], Any]


def header_info(node: Node, height: int) -> dict[str, Any]:
    stored = node.store.get_header(height)
    assert stored is not None
    hash_, header, certificate = stored
    return {
        "height": height,
        "hash": hash_.hex(),
        "header": to_json(decode(header, Header)),
        "certificate": to_json(list(decode(certificate, tuple[BlockSignature, ...]))),
    }


def balance_json(node: Node, account: str, instrument: str, height: int | None) -> Any:
    answer = Reader(node).state(balance_key(account, instrument), height)
    assert answer is not None
    return {
        "account": account,
        "instrument": instrument,
        "height": answer.height,
        "amount": 0 if answer.value is None else decode(answer.value, int),
        "value": None if answer.value is None else answer.value.hex(),
        "header": header_info(node, answer.height),
        "proof": to_json(answer.proof),
    }


def tx_json(node: Node, tx_id: bytes) -> Any:
    answer = Reader(node).tx(tx_id)
    if answer is None:
        return None
    envelope, body = decode_envelope(answer.envelope)
    return {
        "tx_id": tx_id.hex(),
        "height": answer.height,
        "index": answer.index,
        "sender": envelope.sender,
        "nonce": envelope.nonce,
        "envelope": answer.envelope.hex(),
        "body": to_json(body),
        "receipt": to_json(decode(answer.receipt, Receipt)),
        "header": header_info(node, answer.height),
        "tx_proof": [h.hex() for h in answer.tx_path],
        "receipt_proof": [h.hex() for h in answer.receipt_path],
    }


def _not_found() -> httpx.Response:
    return httpx.Response(404, json={"code": "not_found", "message": "no such thing"})


@dataclass
class FakeApi:
    """The handler of an ``httpx.MockTransport``; every request is kept in ``requests``."""

    node: Node
    tamper: Tamper | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    refuse: Callable[[int], str | None] = lambda index: None  # a refusal code, or None: admit

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        route, body = self._route(request, path)
        if isinstance(body, httpx.Response):
            return body
        if self.tamper is not None:
            body = self.tamper(route, body)
        return httpx.Response(200, content=msgspec.json.encode(body))

    def count(self, pattern: str) -> int:
        return sum(1 for r in self.requests if re.fullmatch(pattern, r.url.path))

    def _route(self, request: httpx.Request, path: str) -> tuple[str, Any]:
        node = self.node
        chain = node.ledger.chain
        head = node.ledger.head
        assert chain is not None and head is not None
        if path == "/health":
            return "health", {"status": "ok", "height": head.height, "chain_id": chain.chain_id}
        if path == "/v1/chain":
            return "chain", {**to_json(chain), "height": head.height}
        if m := re.fullmatch(r"/v1/parties/([^/]+)/nonce", path):
            nonce = node.ledger.values.get(nonce_key(m[1]), 0)
            return "nonce", {"party": m[1], "nonce": nonce}
        if m := re.fullmatch(r"/v1/headers/(\d+|head)", path):
            height = head.height if m[1] == "head" else int(m[1])
            if height > head.height:
                return "header", _not_found()
            return "header", header_info(node, height)
        if m := re.fullmatch(r"/v1/balances/([^/]+)/([^/]+)", path):
            height = request.url.params.get("height")
            return "balance", balance_json(
                node, m[1], m[2], None if height is None else int(height)
            )
        if m := re.fullmatch(r"/v1/transactions/([0-9a-f]{64})", path):
            found = tx_json(node, bytes.fromhex(m[1]))
            return "transaction", _not_found() if found is None else found
        if path == "/v1/transactions" and request.method == "POST":
            return "submit", self._submit(request)
        return "none", _not_found()

    def _submit(self, request: httpx.Request) -> Any:
        raws = [bytes.fromhex(h) for h in msgspec.json.decode(request.content)["envelopes"]]
        refused = {i: code for i in range(len(raws)) if (code := self.refuse(i)) is not None}
        admitted = self.node.submit([r for i, r in enumerate(raws) if i not in refused])
        results: list[dict[str, Any]] = []
        queue = iter(admitted)
        for i in range(len(raws)):
            if i in refused:
                results.append({"tx_id": None, "code": refused[i], "message": "refused"})
                continue
            a = next(queue)
            results.append(
                {"tx_id": a.tx_id and a.tx_id.hex(), "code": a.code, "message": a.message}
            )
        wait = request.url.params.get("wait") == "true"
        while wait and self.node.pending_count:
            self.node.produce_block()
        for result in results:
            tx_id = result["tx_id"]
            receipt = None
            height = None
            if wait and result["code"] == "ok":
                got = self.node.receipt(bytes.fromhex(tx_id))
                if got is not None:
                    height, receipt = got[0], to_json(got[1])
            result.update(height=height, receipt=receipt)
        return {"results": results}
