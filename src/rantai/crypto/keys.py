"""Ed25519 keys and signatures, through libsodium (PyNaCl).

A public key is its 32 raw bytes; a signature is 64 raw bytes. libsodium rejects
non-canonical signatures, so a valid signature has exactly one encoding and a
transaction id (the hash of the signed envelope) cannot be changed by a third party.
"""

from __future__ import annotations

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey as _NaclSigningKey
from nacl.signing import VerifyKey as _NaclVerifyKey

__all__ = ["PUBLIC_KEY_SIZE", "SEED_SIZE", "SIGNATURE_SIZE", "SigningKey", "verify"]

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
    """Return whether ``signature`` is a valid signature of ``message`` by ``public_key``."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        _NaclVerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError):
        return False
    return True
