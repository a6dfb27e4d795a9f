"""Ed25519 keys and signatures: signing and key checks through libsodium (PyNaCl),
verification by the rules of ZIP 215 through ed25519-zebra.

A public key is its 32 raw bytes; a signature is 64 raw bytes. Why two libraries, and what
a valid signature is: docs/decisions/signature-verification.md. In short, ZIP 215 is one
precise rule that every implementation of it agrees on, and it accepts every signature
libsodium accepts. Its scalar must be canonical and its R is hashed into the challenge, so a
third party cannot turn a valid signature into another valid one (a transaction id, the
hash of the signed envelope, stays the signer's). Keys that could sign for anyone (points
of small order) are refused where keys are registered (``is_public_key``).
"""

from __future__ import annotations

from ed25519_zebra import ed_verify as _zip215_verify
from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.signing import SigningKey as _NaclSigningKey

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SEED_SIZE",
    "SIGNATURE_SIZE",
    "SigningKey",
    "is_public_key",
    "verify",
]

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64


class SigningKey:
    """An Ed25519 private key, kept as its 32-byte seed."""

    __slots__ = ("_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, got {len(seed)}")
        self._key = _NaclSigningKey(seed)
        self.public_key: bytes = bytes(self._key.verify_key)

    @classmethod
    def generate(cls) -> SigningKey:
        """Return a new key from the operating system's random source."""
        return cls(bytes(_NaclSigningKey.generate()))

    @property
    def seed(self) -> bytes:
        """The 32-byte seed; whoever has it can sign."""
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte signature of ``message``."""
        return self._key.sign(message).signature

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key.hex()})"


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether ``signature`` is a valid signature of ``message`` by ``public_key``
    (ZIP 215)."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    return bool(_zip215_verify(signature, message, public_key))


def is_public_key(public_key: bytes) -> bool:
    """Whether ``public_key`` may be registered: the canonical encoding of a point of the
    prime-order group, which every real key is (libsodium's check; ~40 us).

    Under ZIP 215 a key of small order verifies signatures nobody made (for the identity
    point, R the identity and S zero sign anything), and a key with a small-order part
    accepts signatures that libsodium refuses; a ledger that registers neither keeps the two
    rules apart only for signatures that a key's own holder crafts (see the decision record).
    """
    return len(public_key) == PUBLIC_KEY_SIZE and bool(
        crypto_core_ed25519_is_valid_point(public_key)
    )
