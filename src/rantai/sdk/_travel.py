"""Travel-rule data, client side: seal a payload to its readers, and open a reader's copy.

The core (``rantai.core.travel``) never sees the plaintext: sealing needs randomness, so it
happens here. ``seal_travel`` commits to the payload (``travel_commitment``) and seals its
canonical bytes once per reader with a libsodium sealed box (an ephemeral X25519 key,
XSalsa20-Poly1305) to the X25519 form of one of the reader's current Ed25519 keys. The node
then checks only that every required reader — each agency, and the institution (registrar)
of the source's and of the destination's owner — has a copy sealed to one of its current
keys; it cannot check what the copies hold.

``open_travel`` is what a reader does: find its copy, open it with its private key, and
recompute the commitment. A copy that does not open, or holds anything but the committed
payload, raises ``TravelMismatch``: the sender signed it, so it is evidence against the
sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import nacl.exceptions
import nacl.signing
import nacl.utils
from nacl.public import SealedBox

from rantai.core.encoding import decode, encode
from rantai.core.errors import Malformed
from rantai.core.travel import SealedCopy, TravelData, TravelPayload, travel_commitment
from rantai.crypto.keys import SigningKey
from rantai.sdk._checks import PublicKeyLike, check_record, public_key_bytes
from rantai.sdk._errors import InvalidTransaction, TravelError, TravelMismatch

__all__ = ["TRAVEL_SALT_SIZE", "open_travel", "seal_travel", "travel_payload"]

TRAVEL_SALT_SIZE: Final = 32


def travel_payload(
    *,
    originator_name: str,
    originator_account: str,
    originator_address: str = "",
    originator_id: str = "",
    originator_birth: str = "",
    beneficiary_name: str,
    beneficiary_account: str,
    salt: bytes | None = None,
) -> TravelPayload:
    """The originator and beneficiary information of FATF Recommendation 16.

    Keyword-only, in the payload's field order, so that no two names can be swapped
    unnoticed. R.16 asks for the originator's address, national identity number, customer
    id, or date and place of birth: give one (``originator_address``, ``originator_id``,
    ``originator_birth``), empty strings for the others. ``salt`` (32 bytes) keeps the
    commitment from being guessed from the fields; a fresh random one by default.

    Raises InvalidTransaction: ``malformed`` (a field of the wrong type), ``bad_field`` (a
    salt of another size).
    """
    payload = TravelPayload(
        originator_name,
        originator_account,
        originator_address,
        originator_id,
        originator_birth,
        beneficiary_name,
        beneficiary_account,
        nacl.utils.random(TRAVEL_SALT_SIZE) if salt is None else salt,
    )
    return _check_payload(payload)


def _check_payload(payload: TravelPayload) -> TravelPayload:
    """``payload`` as a reader will decode it (field types checked), with a full salt."""
    try:
        checked = decode(encode(payload), TravelPayload)
    except Malformed as exc:
        raise InvalidTransaction(exc.code, exc.message) from None
    except TypeError as exc:
        raise InvalidTransaction("malformed", str(exc)) from None
    if len(checked.salt) != TRAVEL_SALT_SIZE:
        raise InvalidTransaction("bad_field", f"salt: {TRAVEL_SALT_SIZE} bytes")
    return checked


def _seal(public_key: bytes, plaintext: bytes) -> bytes:
    try:
        box = SealedBox(nacl.signing.VerifyKey(public_key).to_curve25519_public_key())
    except (ValueError, nacl.exceptions.CryptoError):
        # Not 32 bytes, or not a point on the curve: no party can hold such a key.
        raise InvalidTransaction("bad_field", "reader key: an Ed25519 public key") from None
    ciphertext: bytes = box.encrypt(plaintext)
    return ciphertext


def seal_travel(payload: TravelPayload, readers: Mapping[str, PublicKeyLike]) -> TravelData:
    """The ``travel`` of a ``travel_transfer``: a commitment to ``payload`` and one sealed
    copy for each reader (party id -> one of its current public keys).

    The readers the node requires are every agency (``Client.chain().config.agencies``) and
    the registrar of the source's and of the destination's owner (``Party.registered_by``);
    copies for further readers are allowed. Raises InvalidTransaction: ``bad_field`` (a key
    that is not an Ed25519 public key, a bad reader id, a salt not of 32 bytes, a payload
    too large to seal), ``too_many_items`` (no readers, or more than the node allows),
    ``malformed`` (a payload field of the wrong type).
    """
    payload = _check_payload(payload)
    plaintext = encode(payload)
    copies = tuple(
        SealedCopy(reader, key, _seal(key, plaintext))
        for reader, key in sorted((r, public_key_bytes(k)) for r, k in readers.items())
    )
    return check_record(TravelData(travel_commitment(payload), copies))


def open_travel(travel: TravelData, reader: str, key: SigningKey) -> TravelPayload:
    """Open ``reader``'s copy of ``travel`` with its private ``key``; the payload, once
    checked against the commitment the sender signed.

    Raises TravelError when no copy is sealed to ``reader`` under ``key``; TravelMismatch
    when the copy does not open, is not a canonical payload, or does not match the
    commitment.
    """
    copy = next(
        (c for c in travel.copies if c.reader == reader and c.public_key == key.public_key),
        None,
    )
    if copy is None:
        raise TravelError(f"no copy of the travel data for {reader!r} under this key")
    private = nacl.signing.SigningKey(key.seed).to_curve25519_private_key()
    try:
        plaintext = SealedBox(private).decrypt(copy.ciphertext)
    except nacl.exceptions.CryptoError:
        raise TravelMismatch(f"{reader!r}'s copy does not open with its key") from None
    try:
        payload = decode(plaintext, TravelPayload)
    except Malformed as exc:
        raise TravelMismatch(f"{reader!r}'s copy is not a travel payload: {exc}") from None
    if travel_commitment(payload) != travel.commitment:
        raise TravelMismatch(f"{reader!r}'s copy is not the committed payload")
    return payload
