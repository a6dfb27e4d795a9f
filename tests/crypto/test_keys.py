"""Ed25519 verification by ZIP 215 (ed25519-zebra), and which keys may be registered."""

from __future__ import annotations

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from rantai.crypto.keys import SigningKey, is_public_key, verify

# The order of the prime-order group (RFC 8032's L).
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY_POINT = bytes([1]) + bytes(31)
ORDER_4_POINT = bytes(32)  # y = 0


def _libsodium_accepts(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError):
        return False
    return True


def test_a_signature_verifies_for_its_key_and_message_only() -> None:
    key, other = SigningKey(bytes(32)), SigningKey(bytes([1]) * 32)
    signature = key.sign(b"pay 10")
    assert verify(key.public_key, b"pay 10", signature)
    assert not verify(key.public_key, b"pay 11", signature)
    assert not verify(other.public_key, b"pay 10", signature)
    assert not verify(key.public_key, b"pay 10", signature[:63])
    assert not verify(key.public_key[:31], b"pay 10", signature)


def test_a_scalar_not_below_the_group_order_is_refused() -> None:
    # S + L is the same scalar modulo L: accepting it would let anyone re-encode a signature
    # (and so change a transaction's id).
    key = SigningKey(bytes(32))
    signature = key.sign(b"m")
    s = int.from_bytes(signature[32:], "little") + GROUP_ORDER
    assert s < 2**256
    assert not verify(key.public_key, b"m", signature[:32] + s.to_bytes(32, "little"))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=200),
    flip=st.integers(0, 64 * 8 - 1),
)
def test_property_agrees_with_libsodium_on_real_keys(
    seed: bytes, message: bytes, flip: int
) -> None:
    # Real keys, their signatures, and those signatures with one bit flipped: ZIP 215 and
    # libsodium give the same answer (they differ only for signatures a key's holder crafts,
    # or for keys that registration refuses).
    key = SigningKey(seed)
    signature = key.sign(message)
    assert verify(key.public_key, message, signature)
    assert _libsodium_accepts(key.public_key, message, signature)
    damaged = bytearray(signature)
    damaged[flip // 8] ^= 1 << (flip % 8)
    assert verify(key.public_key, message, bytes(damaged)) == _libsodium_accepts(
        key.public_key, message, bytes(damaged)
    )


@settings(max_examples=200, deadline=None)
@given(
    public_key=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=64),
    signature=st.binary(min_size=64, max_size=64),
)
def test_property_arbitrary_bytes_give_an_answer_not_an_error(
    public_key: bytes, message: bytes, signature: bytes
) -> None:
    # Keys that do not decode, scalars out of range, R off the curve: False, never a raise
    # (a raise would take a verifier worker's whole chunk down). Random bytes almost never
    # verify under either rule, so the second assertion rarely bites: that ZIP 215 accepts
    # what libsodium accepts is tested on real signatures above.
    answer = verify(public_key, message, signature)
    assert isinstance(answer, bool)
    assert answer or not _libsodium_accepts(public_key, message, signature)


def test_a_key_of_small_order_would_verify_anything_so_it_cannot_be_registered() -> None:
    # Why registration checks keys: under ZIP 215 the identity point "signs" every message
    # with R the identity and S zero. libsodium refuses such keys outright.
    forged = IDENTITY_POINT + bytes(32)
    assert verify(IDENTITY_POINT, b"transfer everything", forged)
    assert not _libsodium_accepts(IDENTITY_POINT, b"transfer everything", forged)
    assert not is_public_key(IDENTITY_POINT)


@pytest.mark.parametrize(
    ("key", "registrable"),
    [
        (SigningKey(bytes(32)).public_key, True),
        (SigningKey(bytes([7]) * 32).public_key, True),
        (IDENTITY_POINT, False),
        (ORDER_4_POINT, False),
        # A real key plus a point of order 4: not of small order, but not in the prime-order
        # group either, so cofactored and cofactorless checks would disagree on it.
        (
            nacl.bindings.crypto_core_ed25519_add(SigningKey(bytes(32)).public_key, ORDER_4_POINT),
            False,
        ),
        (b"\xff" * 32, False),  # not a canonical encoding
        (SigningKey(bytes(32)).public_key[:31], False),
    ],
)
def test_which_keys_may_be_registered(key: bytes, registrable: bool) -> None:
    assert is_public_key(key) is registrable
