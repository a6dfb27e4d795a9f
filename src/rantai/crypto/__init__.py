"""Pure cryptography: hashing, Ed25519 keys and signatures, Merkle trees and proofs."""
