"""The one exception of ISO 20022 import and export, with a stable reason code.

``Iso20022Error.code`` is one of the ledger's stateless codes (``rantai.core.codes``):
``too_large``, ``malformed`` (not XML, not the message expected, or schema-invalid),
``bad_field`` (a value the mapping cannot turn into a ledger id) and ``bad_amount`` (an
amount or quantity the instrument cannot hold exactly); or, for an export, the ledger's
``instruction_closed`` (not settled) or ``not_dvp`` (not one securities leg against one
cash leg between the same two parties). ``element`` names the failing
element as a path of local names (``SctiesSttlmTxInstr/TradDtls/SttlmDt``), and the
message starts with it, so that whoever fixes the message knows where to look.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NOT_DVP", "Iso20022Error"]

NOT_DVP: Final = "not_dvp"


class Iso20022Error(Exception):
    """An ISO 20022 message refused, or a record that cannot be written as one."""

    def __init__(self, code: str, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.code = code
        self.element = element
        self.reason = reason
        self.message = f"{element}: {reason}"
