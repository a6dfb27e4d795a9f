"""Travel-rule data, client side: sealed to each reader, opened only by a reader's own key,
checked against the commitment the sender signed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nacl.exceptions import CryptoError
from nacl.public import SealedBox
from nacl.signing import SigningKey as NaclSigningKey
from tests.support import key_of

from rantai import sdk
from rantai.core.encoding import encode
from rantai.core.travel import SealedCopy, TravelData, travel_commitment

READERS = ("BNM", "MOD", "SC", "registrar")


def _payload(**changes: str) -> sdk.TravelPayload:
    fields = {
        "originator_name": "Alice Tan",
        "originator_account": "alice:main",
        "originator_address": "1 Jalan Ampang, Kuala Lumpur",
        "beneficiary_name": "Bob Lim",
        "beneficiary_account": "bob:main",
        **changes,
    }
    return sdk.travel_payload(**fields, salt=bytes(range(32)))


def _sealed(payload: sdk.TravelPayload | None = None) -> sdk.TravelData:
    return sdk.seal_travel(payload or _payload(), {r: key_of(r) for r in READERS})


def test_every_reader_opens_its_copy_and_gets_the_committed_payload() -> None:
    payload = _payload()
    travel = _sealed(payload)
    assert travel.commitment == travel_commitment(payload)
    assert [c.reader for c in travel.copies] == sorted(READERS)
    assert all(c.public_key == key_of(c.reader).public_key for c in travel.copies)
    for reader in READERS:
        assert sdk.open_travel(travel, reader, key_of(reader)) == payload


def test_readers_keys_may_be_given_as_public_key_bytes() -> None:
    travel = sdk.seal_travel(_payload(), {r: key_of(r).public_key for r in READERS})
    assert sdk.open_travel(travel, "SC", key_of("SC")) == _payload()


def test_sealing_is_randomised_and_the_salt_is_fresh_by_default() -> None:
    first, second = _sealed(), _sealed()
    assert first.commitment == second.commitment  # the same payload (and salt)
    assert first.copies[0].ciphertext != second.copies[0].ciphertext  # an ephemeral key each
    fresh = [
        sdk.travel_payload(
            originator_name="A",
            originator_account="a:main",
            beneficiary_name="B",
            beneficiary_account="b:main",
        )
        for _ in range(2)
    ]
    assert fresh[0].salt != fresh[1].salt and len(fresh[0].salt) == 32
    assert travel_commitment(fresh[0]) != travel_commitment(fresh[1])


def test_a_non_recipient_cannot_open_it() -> None:
    travel = _sealed()
    with pytest.raises(sdk.TravelError, match="no copy"):
        sdk.open_travel(travel, "outsider", key_of("outsider"))
    with pytest.raises(sdk.TravelError, match="no copy"):  # a reader's name, not its key
        sdk.open_travel(travel, "SC", key_of("outsider"))
    # Relabelling a copy does not help: it is sealed to the reader's key, not to a name.
    stolen = TravelData(
        travel.commitment,
        tuple(
            SealedCopy("outsider", key_of("outsider").public_key, c.ciphertext)
            for c in travel.copies[:1]
        ),
    )
    with pytest.raises(sdk.TravelMismatch, match="does not open"):
        sdk.open_travel(stolen, "outsider", key_of("outsider"))
    # And no ciphertext opens under the outsider's key at all.
    private = NaclSigningKey(key_of("outsider").seed).to_curve25519_private_key()
    for copy in travel.copies:
        with pytest.raises(CryptoError):
            SealedBox(private).decrypt(copy.ciphertext)


def test_a_copy_that_is_not_the_committed_payload_is_a_mismatch() -> None:
    honest = _sealed()
    lie = _sealed(_payload(beneficiary_name="Somebody Else"))
    # The sender committed to one payload but sealed another to SC.
    swapped = tuple(
        lie_copy if copy.reader == "SC" else copy
        for copy, lie_copy in zip(honest.copies, lie.copies, strict=True)
    )
    forged = TravelData(honest.commitment, swapped)
    assert sdk.open_travel(forged, "BNM", key_of("BNM")) == _payload()
    with pytest.raises(sdk.TravelMismatch, match="not the committed payload"):
        sdk.open_travel(forged, "SC", key_of("SC"))
    # A copy that opens but holds no payload.
    box = SealedBox(NaclSigningKey(key_of("SC").seed).verify_key.to_curve25519_public_key())
    junk = SealedCopy("SC", key_of("SC").public_key, box.encrypt(encode(["not", "a payload"])))
    with pytest.raises(sdk.TravelMismatch, match="not a travel payload"):
        sdk.open_travel(TravelData(honest.commitment, (junk,)), "SC", key_of("SC"))
    # A ciphertext altered in transit (or by the sender).
    copy = honest.copies[0]
    bent = SealedCopy(copy.reader, copy.public_key, copy.ciphertext[:-1] + b"\0")
    with pytest.raises(sdk.TravelMismatch, match="does not open"):
        sdk.open_travel(TravelData(honest.commitment, (bent,)), copy.reader, key_of(copy.reader))


@pytest.mark.parametrize(
    ("seal", "code"),
    [
        (lambda: sdk.seal_travel(_payload(), {}), "too_many_items"),
        (lambda: sdk.seal_travel(_payload(), {"SC": b"short"}), "bad_field"),
        (lambda: sdk.seal_travel(_payload(), {"SC": b"\xff" * 32}), "bad_field"),  # no point
        (lambda: sdk.seal_travel(_payload(), {"Not An Id": key_of("x")}), "bad_field"),
        (
            lambda: sdk.seal_travel(_payload(originator_name="x" * 5000), {"SC": key_of("SC")}),
            "bad_field",
        ),
        (
            lambda: sdk.travel_payload(
                originator_name="A",
                originator_account="a:main",
                beneficiary_name="B",
                beneficiary_account="b:main",
                salt=b"short",
            ),
            "bad_field",
        ),
        (
            lambda: sdk.travel_payload(
                originator_name=None,  # type: ignore[arg-type]
                originator_account="a:main",
                beneficiary_name="B",
                beneficiary_account="b:main",
            ),
            "malformed",
        ),
    ],
)
def test_what_cannot_be_sealed_fails_here(seal: Callable[[], object], code: str) -> None:
    with pytest.raises(sdk.InvalidTransaction) as caught:
        seal()
    assert caught.value.code == code
