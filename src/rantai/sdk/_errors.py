"""The SDK's exceptions; the tree is drawn in ``rantai.sdk``'s module docstring.

Every exception the SDK raises on purpose is a ``RantaiError``. ``ApiError`` and its
subclasses carry the API's stable reason ``code`` (docs/api.md, "Errors"), so a caller
switches on ``code`` and catches by class only for the broad outcome.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "ApiError",
    "Forbidden",
    "InvalidTransaction",
    "KeyFileError",
    "NotFound",
    "ProofError",
    "RantaiError",
    "Rejected",
    "TransportError",
    "TravelError",
    "TravelMismatch",
    "Unauthenticated",
    "Unavailable",
    "UnexpectedResponse",
    "WrongPassphrase",
    "error_from_response",
]

_ERROR_TEXT_CHARS_MAX: Final = 200  # of a body that is not the API's error shape


class RantaiError(Exception):
    """The root of every error the SDK raises on purpose."""


class ApiError(RantaiError):
    """The API answered with an error: its reason ``code``, ``message`` and HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code} (HTTP {status}): {message}" if message else f"{code} ({status})")
        self.code = code
        self.message = message
        self.status = status


class Rejected(ApiError):
    """The request was refused as sent (400, 409, 413, 422): malformed, bad_nonce, too_large,
    wrong_chain, bad_signature ... Sending it again unchanged gives the same answer."""


class NotFound(ApiError):
    """404: no such resource (or no such route, when the server is another version)."""


class Forbidden(ApiError):
    """403: the read is outside the reading party's scope."""


class Unauthenticated(ApiError):
    """401: the read signature is missing, wrong, stale or replayed."""


class Unavailable(ApiError):
    """429 or 503: the node is busy (``pending_full``) or not ready (``no_genesis``); retry."""


class ProofError(RantaiError):
    """A proof, header hash or certificate the server returned does not verify.

    Either the server is faulty or it is lying: never use the value it came with.
    """


class TransportError(RantaiError):
    """The request did not complete: connection refused, timeout, broken stream.

    Whether a submitted transaction was admitted is unknown; its nonce makes resending the
    same envelope safe.
    """


class UnexpectedResponse(RantaiError):
    """A response that does not fit docs/api.md: not JSON, missing fields, another chain."""


class InvalidTransaction(RantaiError):
    """A transaction body fails the stateless checks locally, before anything is sent.

    ``code`` is the reason code the node would give (``bad_amount``, ``bad_field`` ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class TravelError(RantaiError):
    """Travel-rule data holds no copy for this reader's key: it is not a recipient."""


class TravelMismatch(TravelError):
    """The reader's copy does not open, or does not hold the committed payload.

    The sender signed the commitment and every ciphertext, so the transaction is evidence
    against it (``rantai.core.travel``).
    """


class KeyFileError(RantaiError):
    """A key file cannot be read: missing fields, unknown version, altered, or encrypted and
    no passphrase given."""


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the key file (or the encrypted part was altered)."""


_CLASS_BY_STATUS: Final[dict[int, type[ApiError]]] = {
    400: Rejected,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Rejected,
    413: Rejected,
    422: Rejected,
    429: Unavailable,
    503: Unavailable,
}


def error_from_response(status: int, data: Any, text: str) -> ApiError:
    """The exception for an error response: ``data`` is its decoded JSON (or None), ``text``
    its body as text, used when the body is not the API's ``{"code", "message"}``."""
    cls = _CLASS_BY_STATUS.get(status, ApiError)
    if (
        isinstance(data, dict)
        and isinstance(data.get("code"), str)
        and isinstance(data.get("message", ""), str)
    ):
        return cls(data["code"], data.get("message", ""), status)
    # A proxy's page, or a framework default such as {"detail": ...}: keep it readable.
    return cls(f"http_{status}", text[:_ERROR_TEXT_CHARS_MAX], status)
