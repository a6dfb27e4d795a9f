"""Key files: a party id and one of its Ed25519 keys, optionally sealed with a passphrase.

Two formats are read; ``save_key`` writes the second.

* plain, as ``rantai.node.datadir.save_key`` writes it (no version field):
  ``{"party", "public_key", "seed"}``, all hex but the party id.
* version 1: ``{"version": 1, "party", "public_key", "encryption", ...}`` with
  ``"encryption": null`` and ``"seed"`` for a plain key, or, sealed with a passphrase,
  ``"encryption": {"kdf": "argon2id", "salt", "passes", "memory_bytes",
  "cipher": "xsalsa20poly1305"}`` and ``"ciphertext"`` (hex of libsodium's SecretBox output:
  24-byte nonce, then the box).

The box key is Argon2id(passphrase, salt) with the stored cost. The boxed plaintext is the
32-byte seed followed by the party id, so neither the seed nor the party can be swapped
without the passphrase; the public key is recomputed from the seed and compared. A
passphrase given as text is NFC-normalised first, so the same words typed on two systems
give the same bytes.

Files are created with mode 0600 and never overwritten: a key file is often the only copy of
a key. The file is written to a temporary name and linked into place, so a crash never
leaves a half-written key file under the real name.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nacl.exceptions
import nacl.pwhash.argon2id
import nacl.secret
import nacl.utils

from rantai.crypto.keys import SEED_SIZE, SigningKey
from rantai.sdk._errors import KeyFileError, WrongPassphrase

__all__ = [
    "KDF_MEMORY_BYTES_DEFAULT",
    "KDF_PASSES_DEFAULT",
    "KEY_FILE_MODE",
    "KEY_FILE_VERSION",
    "PartyKey",
    "generate_key",
    "load_key",
    "save_key",
]

KEY_FILE_MODE: Final = 0o600
KEY_FILE_VERSION: Final = 1
# libsodium's "moderate" Argon2id cost: about half a second and 256 MiB on a laptop.
KDF_PASSES_DEFAULT: Final[int] = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
KDF_MEMORY_BYTES_DEFAULT: Final[int] = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
# A file states its own cost; bound it so that a crafted file cannot exhaust memory or time.
_KDF_PASSES_MAX: Final[int] = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
_KDF_MEMORY_BYTES_MAX: Final[int] = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
_KDF_NAME: Final = "argon2id"
_CIPHER_NAME: Final = "xsalsa20poly1305"
_KEY_FILE_BYTES_MAX: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class PartyKey:
    """A party and one of its signing keys: what a client signs transactions and reads with."""

    party: str
    key: SigningKey


def generate_key() -> SigningKey:
    """Return a new Ed25519 key from the operating system's random source."""
    return SigningKey.generate()


def save_key(
    path: Path | str,
    key: SigningKey,
    party: str,
    passphrase: str | bytes | None = None,
    *,
    kdf_passes: int = KDF_PASSES_DEFAULT,
    kdf_memory_bytes: int = KDF_MEMORY_BYTES_DEFAULT,
) -> None:
    """Write ``party``'s ``key`` to a new file at ``path``, mode 0600.

    With a ``passphrase`` the seed is sealed (Argon2id with ``kdf_passes`` and
    ``kdf_memory_bytes``, then SecretBox); without one it is stored in the clear, for test
    and demo chains only.

    Raises:
        FileExistsError: ``path`` exists; key files are never overwritten.
        ValueError: an empty passphrase, or a KDF cost outside libsodium's bounds.
    """
    document: dict[str, Any] = {
        "version": KEY_FILE_VERSION,
        "party": party,
        "public_key": key.public_key.hex(),
    }
    if passphrase is None:
        document["encryption"] = None
        document["seed"] = key.seed.hex()
    else:
        secret = _passphrase_bytes(passphrase)
        if not secret:
            raise ValueError("an empty passphrase protects nothing")
        _check_cost(kdf_passes, kdf_memory_bytes, ValueError)
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        box = nacl.secret.SecretBox(_derive(secret, salt, kdf_passes, kdf_memory_bytes))
        document["encryption"] = {
            "kdf": _KDF_NAME,
            "salt": salt.hex(),
            "passes": kdf_passes,
            "memory_bytes": kdf_memory_bytes,
            "cipher": _CIPHER_NAME,
        }
        document["ciphertext"] = bytes(box.encrypt(key.seed + party.encode())).hex()
    _write_new(Path(path), (json.dumps(document, indent=2) + "\n").encode())


def load_key(path: Path | str, passphrase: str | bytes | None = None) -> PartyKey:
    """Read a key file written by ``save_key`` or by ``rantai.node.datadir.save_key``.

    A passphrase given for a plain file is not needed and is ignored.

    Raises:
        FileNotFoundError: no file at ``path``.
        WrongPassphrase: the passphrase does not open the file.
        KeyFileError: not a key file, an unknown version, a public key that does not match
            the seed, or an encrypted file and no passphrase.
    """
    path = Path(path)
    with path.open("rb") as handle:
        raw = handle.read(_KEY_FILE_BYTES_MAX + 1)
    if len(raw) > _KEY_FILE_BYTES_MAX:
        raise KeyFileError(f"{path}: larger than any key file")
    try:
        document = json.loads(raw)
        party = document["party"]
        public_key = bytes.fromhex(document["public_key"])
        version = document.get("version")
        if version is None:  # the plain format of rantai.node.datadir
            seed = bytes.fromhex(document["seed"])
        elif version == KEY_FILE_VERSION:
            seed = _open_v1(path, document, party, passphrase)
        else:
            raise KeyFileError(f"{path}: key file version {version!r} is not known")
        key = SigningKey(seed)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too.
        raise KeyFileError(f"{path}: not a key file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(party, str):
        raise KeyFileError(f"{path}: party is not text")
    if key.public_key != public_key:
        raise KeyFileError(f"{path}: the public key does not match the seed")
    return PartyKey(party, key)


def _open_v1(
    path: Path, document: dict[str, Any], party: str, passphrase: str | bytes | None
) -> bytes:
    encryption = document["encryption"]
    if encryption is None:
        return bytes.fromhex(document["seed"])
    if encryption["kdf"] != _KDF_NAME or encryption["cipher"] != _CIPHER_NAME:
        raise KeyFileError(f"{path}: unknown kdf or cipher {encryption['kdf']!r}")
    if passphrase is None:
        raise KeyFileError(f"{path} is encrypted: give its passphrase")
    passes, memory_bytes = encryption["passes"], encryption["memory_bytes"]
    if not isinstance(passes, int) or not isinstance(memory_bytes, int):
        raise KeyFileError(f"{path}: the KDF cost is not a pair of integers")
    _check_cost(passes, memory_bytes, KeyFileError)
    salt = bytes.fromhex(encryption["salt"])
    if len(salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise KeyFileError(f"{path}: a salt of {len(salt)} bytes")
    box = nacl.secret.SecretBox(_derive(_passphrase_bytes(passphrase), salt, passes, memory_bytes))
    try:
        plaintext: bytes = box.decrypt(bytes.fromhex(document["ciphertext"]))
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase(f"{path}: wrong passphrase, or the file was altered") from None
    if plaintext[SEED_SIZE:] != party.encode():
        raise KeyFileError(f"{path}: the party was changed after the key was sealed")
    return plaintext[:SEED_SIZE]


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        return unicodedata.normalize("NFC", passphrase).encode()
    return passphrase


def _check_cost(passes: int, memory_bytes: int, error: type[Exception]) -> None:
    argon = nacl.pwhash.argon2id
    if not argon.OPSLIMIT_MIN <= passes <= _KDF_PASSES_MAX:
        raise error(f"Argon2id passes: {argon.OPSLIMIT_MIN} to {_KDF_PASSES_MAX}, got {passes}")
    if not argon.MEMLIMIT_MIN <= memory_bytes <= _KDF_MEMORY_BYTES_MAX:
        raise error(
            f"Argon2id memory: {argon.MEMLIMIT_MIN} to {_KDF_MEMORY_BYTES_MAX} bytes, "
            f"got {memory_bytes}"
        )


def _derive(secret: bytes, salt: bytes, passes: int, memory_bytes: int) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, secret, salt, opslimit=passes, memlimit=memory_bytes
    )
    return key


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, mode 0600, all or nothing; never replace a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), KEY_FILE_MODE)  # exactly 0600, whatever the umask
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)  # fails with FileExistsError rather than replace a key
    finally:
        temp.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
