"""Issuer agents: parties an issuer appoints to act for it on its own instruments.

| key | value |
|---|---|
| ``agents/<issuer>`` | party ids, sorted: the issuer's agents (each holds ``issuer_agent``) |

An agent may do what ERC-3643 lets a token's agents do, within the issuer's own instruments
(docs/decisions/issuer-powers.md): mint, pause and unpause, pre-approve conditional
transfers, and freeze holders where the instrument's terms allow. Neither an agent nor the
issuer can take units from a holder: that is a forced transfer, for governance only.
"""

from __future__ import annotations

from rantai.core.state import StateView, register_namespace

__all__ = ["agents_key", "agents_of", "is_agent"]


def agents_key(issuer: str) -> str:
    return f"agents/{issuer}"


def agents_of(view: StateView, issuer: str) -> tuple[str, ...]:
    """``issuer``'s agents, sorted (none: empty)."""
    agents: tuple[str, ...] | None = view.get(agents_key(issuer))
    return () if agents is None else agents


def is_agent(view: StateView, issuer: str, party: str) -> bool:
    """Whether ``party`` is one of ``issuer``'s agents."""
    return party in agents_of(view, issuer)


register_namespace("agents", tuple[str, ...])
