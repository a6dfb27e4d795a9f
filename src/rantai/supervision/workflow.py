"""The review workflow of an alert: statuses, actions, and which action is allowed when.

```
open --review--> under_review --escalate--> escalated (a suspicious transaction report)
  |                   |
  +--escalate---------+--dismiss(reason)--> dismissed
  +--dismiss(reason)
assign(agency): in open or under_review, hands the alert to an agency; status unchanged
```
``escalated`` and ``dismissed`` are final. Every change, the raising of the alert included,
is one entry of the alert's history: who, when, the status and agency after it, the reason.

Refusals, checked in this order, each with a code: ``bad_action`` (not an action),
``reason_required`` (dismiss without a reason), ``bad_agency`` (assign without a known
agency), ``bad_transition`` (the action is not allowed in the current status).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

__all__ = [
    "ACTIONS",
    "DISMISSED",
    "ESCALATED",
    "FINAL_STATUSES",
    "OPEN",
    "REASON_CHARS_MAX",
    "STATUSES",
    "UNDER_REVIEW",
    "WorkflowError",
    "next_state",
]

OPEN: Final = "open"
UNDER_REVIEW: Final = "under_review"
ESCALATED: Final = "escalated"
DISMISSED: Final = "dismissed"
STATUSES: Final = (OPEN, UNDER_REVIEW, ESCALATED, DISMISSED)
FINAL_STATUSES: Final = frozenset({ESCALATED, DISMISSED})
ACTIONS: Final = ("review", "escalate", "dismiss", "assign")
REASON_CHARS_MAX: Final = 1_000

_TARGET: Final = {"review": UNDER_REVIEW, "escalate": ESCALATED, "dismiss": DISMISSED}
_ALLOWED_FROM: Final = {
    "review": frozenset({OPEN}),
    "escalate": frozenset({OPEN, UNDER_REVIEW}),
    "dismiss": frozenset({OPEN, UNDER_REVIEW}),
    "assign": frozenset({OPEN, UNDER_REVIEW}),
}


class WorkflowError(Exception):
    """An action refused; ``code`` says why (see the module docstring for the order)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def next_state(
    status: str,
    agency: str,
    action: str,
    *,
    reason: str = "",
    to_agency: str = "",
    agencies: Collection[str] = (),
) -> tuple[str, str]:
    """The ``(status, agency)`` after ``action`` on an alert in ``(status, agency)``.

    Raises:
        WorkflowError: ``bad_action``, ``reason_required``, ``bad_agency``,
            ``bad_transition``, in that order.
    """
    if action not in ACTIONS:
        raise WorkflowError("bad_action", f"action: one of {', '.join(ACTIONS)}")
    if action == "dismiss" and not reason.strip():
        raise WorkflowError("reason_required", "a dismissal needs a reason")
    if action == "assign" and to_agency not in agencies:
        raise WorkflowError("bad_agency", f"not an agency: {to_agency[:64]!r}")
    if status not in _ALLOWED_FROM[action]:
        raise WorkflowError("bad_transition", f"cannot {action} an alert that is {status}")
    if action == "assign":
        return status, to_agency
    return _TARGET[action], agency
