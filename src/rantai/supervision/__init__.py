"""Supervision: the read side of the agencies (DESIGN §12).

AML monitors over committed events (``monitors``), fed block by block by the ``Supervisor``,
which keeps the alerts and their review history in the store's own tables. It never changes
ledger state; enforcement (a freeze) goes through signed governance transactions as always.
See docs/supervision.md.
"""

from __future__ import annotations

from rantai.supervision.events import CommittedMovement, movements_of
from rantai.supervision.monitors import (
    Alert,
    DormantAccount,
    DormantAccountConfig,
    HighRiskJurisdiction,
    HighRiskJurisdictionConfig,
    LargeTransfer,
    LargeTransferConfig,
    Monitor,
    MonitorContext,
    RoundTrip,
    RoundTripConfig,
    Structuring,
    StructuringConfig,
    Velocity,
    VelocityConfig,
    default_monitors,
)
from rantai.supervision.sanctions import SanctionsList, SanctionsListError, load_sanctions_list
from rantai.supervision.supervisor import AlertView, Supervisor
from rantai.supervision.workflow import STATUSES, WorkflowError

__all__ = [
    "STATUSES",
    "Alert",
    "AlertView",
    "CommittedMovement",
    "DormantAccount",
    "DormantAccountConfig",
    "HighRiskJurisdiction",
    "HighRiskJurisdictionConfig",
    "LargeTransfer",
    "LargeTransferConfig",
    "Monitor",
    "MonitorContext",
    "RoundTrip",
    "RoundTripConfig",
    "SanctionsList",
    "SanctionsListError",
    "Structuring",
    "StructuringConfig",
    "Supervisor",
    "Velocity",
    "VelocityConfig",
    "WorkflowError",
    "default_monitors",
    "load_sanctions_list",
    "movements_of",
]
