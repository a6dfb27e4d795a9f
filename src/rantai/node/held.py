"""Transactions that arrived ahead of their sender's next nonce, held until the gap fills.

A client that pipelines (several submissions in flight, from one process or several) can
have its envelopes admitted out of nonce order: two requests are verified on two threads
and either may reach the pending log first. Ordered as they come, the later nonce would
execute first and get ``bad_nonce``, and so would every envelope of that sender after it
in the block. So when the executor cuts a block it holds an envelope whose nonce is ahead
of its sender's next one, and orders it right after its predecessor. An envelope whose
predecessor never comes is ordered anyway after ``wait_s`` (and gets ``bad_nonce``, as
before: docs/decisions/nonces.md), so nothing waits forever and a held envelope always
ends with a receipt. At most ``txs_max`` are held; beyond that they are ordered at once.
Used by the executor thread only.
"""

from __future__ import annotations

from collections import deque

from rantai.core.tx import SignedTx

__all__ = ["HeldTxs"]


class HeldTxs:
    """Held transactions by sender and nonce, with the time each must be ordered by."""

    def __init__(self, wait_s: float, txs_max: int) -> None:
        self.wait_s = wait_s
        self.txs_max = txs_max
        self._by_sender: dict[str, dict[int, SignedTx]] = {}
        self._deadlines: deque[tuple[float, str, int]] = deque()  # in arrival order
        self._count = 0
        # Senders whose next held nonce came due while a block was full: released first.
        self.due_senders: set[str] = set()

    def __len__(self) -> int:
        return self._count

    def hold(self, tx: SignedTx, now_s: float) -> bool:
        """Hold ``tx``; False (not held) when full or its nonce is held already."""
        if self._count >= self.txs_max:
            return False
        held = self._by_sender.setdefault(tx.sender, {})
        if tx.nonce in held:
            return False
        held[tx.nonce] = tx
        self._deadlines.append((now_s + self.wait_s, tx.sender, tx.nonce))
        self._count += 1
        return True

    def take(self, sender: str, nonce: int) -> SignedTx | None:
        """Remove and return the held transaction of ``sender`` at ``nonce``, if any."""
        held = self._by_sender.get(sender)
        if held is None:
            return None
        tx = held.pop(nonce, None)
        if tx is not None:
            self._count -= 1
            if not held:
                del self._by_sender[sender]
        return tx

    def next_deadline(self) -> float | None:
        """When the oldest held transaction must be ordered; None when none is held."""
        while self._deadlines:
            deadline, sender, nonce = self._deadlines[0]
            if nonce in self._by_sender.get(sender, {}):
                return deadline
            self._deadlines.popleft()  # taken already
        return None

    def expired(self, now_s: float, limit: int) -> list[SignedTx]:
        """Up to ``limit`` held transactions whose time is up, oldest first, removed."""
        out: list[SignedTx] = []
        while len(out) < limit:
            deadline = self.next_deadline()
            if deadline is None or deadline > now_s:
                break
            _, sender, nonce = self._deadlines.popleft()
            tx = self.take(sender, nonce)
            if tx is not None:
                out.append(tx)
        return out
