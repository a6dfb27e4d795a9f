"""Travel-rule data (FATF Recommendation 16): who sends and who receives, readable only by
the agencies and the two parties' institutions.

The sender's client builds a ``TravelPayload`` (the originator and beneficiary information
R.16 and its interpretive note list, plus a random salt), commits to it with
``travel_commitment``, and seals the payload's canonical bytes once per reader to an X25519
key derived from one of the reader's current Ed25519 keys (libsodium sealed box). Sealing
needs randomness, so it happens on the client; the core never sees the plaintext.

**What the core checks** (``check_travel``): the data is present; there is exactly one copy
for every required reader — each agency, and the institution of the source's and of the
destination's owner (the registrar that onboarded it) — each sealed to one of that
reader's current keys. **What it cannot check**: that the ciphertexts decrypt, or that they
hold the committed payload or true information. A reader checks that with
``travel_commitment`` after opening its copy; a mismatch is evidence against the sender,
whose signature covers the commitment and every ciphertext.
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.encoding import encode
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_party_id
from rantai.core.records import CHAIN_KEY, ChainConfig, Party, party_key
from rantai.core.state import StateView
from rantai.crypto.hashing import tagged_hash

__all__ = [
    "TRAVEL_DOMAIN",
    "SealedCopy",
    "TravelData",
    "TravelPayload",
    "check_travel",
    "required_readers",
    "travel_commitment",
]

TRAVEL_DOMAIN: Final = b"rantai/travel/v1"


class TravelPayload(msgspec.Struct, frozen=True, array_like=True):
    """The plaintext: the originator and beneficiary information of FATF R.16."""

    originator_name: str
    originator_account: str  # the account number, or a unique transaction reference
    originator_address: str  # address, national identity number, customer id, or
    originator_id: str  # ... date and place of birth: R.16 asks for one of these;
    originator_birth: str  # empty strings where not given
    beneficiary_name: str
    beneficiary_account: str
    salt: bytes  # 32 random bytes: the commitment must not be guessable from the fields


def travel_commitment(payload: TravelPayload) -> bytes:
    """SHA-256 of the domain tag and the payload's canonical bytes."""
    return tagged_hash(TRAVEL_DOMAIN, encode(payload))


class SealedCopy(msgspec.Struct, frozen=True, array_like=True):
    """The payload sealed to one reader's key."""

    reader: str
    public_key: bytes  # the reader's Ed25519 key whose X25519 form it is sealed to
    ciphertext: bytes


class TravelData(msgspec.Struct, frozen=True, array_like=True):
    """What a transfer carries: a commitment to the payload and one sealed copy per reader."""

    commitment: bytes
    copies: tuple[SealedCopy, ...]

    def check_form(self) -> None:
        if len(self.commitment) != 32:
            raise Malformed(codes.BAD_FIELD, "travel commitment: 32 bytes")
        if not 1 <= len(self.copies) <= limits.TRAVEL_READERS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.TRAVEL_READERS_MAX} copies")
        readers = [c.reader for c in self.copies]
        if readers != sorted(set(readers)):
            raise Malformed(codes.BAD_FIELD, "travel copies: one per reader, sorted by reader")
        for copy in self.copies:
            check_party_id(copy.reader, "reader")
            if len(copy.public_key) != 32:
                raise Malformed(codes.BAD_FIELD, "reader key: 32 bytes")
            if not 1 <= len(copy.ciphertext) <= limits.TRAVEL_CIPHERTEXT_BYTES_MAX:
                raise Malformed(codes.BAD_FIELD, "ciphertext: 1 to the bound in bytes")


def required_readers(view: StateView, source_party: str, destination_party: str) -> list[str]:
    """Every agency and both owners' institutions (their registrars), sorted, each once."""
    chain: ChainConfig = view.get(CHAIN_KEY)
    readers = {a.party for a in chain.agencies}
    for party_id in (source_party, destination_party):
        party: Party = view.get(party_key(party_id))
        readers.add(party.registered_by)
    return sorted(readers)


def check_travel(view: StateView, data: TravelData, source_party: str, dest_party: str) -> None:
    """Reject travel_incomplete unless every required reader has a copy sealed to one of its
    current keys (copies for further readers are allowed)."""
    copies = {c.reader: c for c in data.copies}
    for reader in required_readers(view, source_party, dest_party):
        copy = copies.get(reader)
        if copy is None:
            raise Rejection(codes.TRAVEL_INCOMPLETE, f"no copy for {reader!r}")
        party: Party | None = view.get(party_key(reader))
        if party is None or copy.public_key not in party.keys:
            raise Rejection(codes.TRAVEL_INCOMPLETE, f"{reader!r}'s copy is not to its key")
