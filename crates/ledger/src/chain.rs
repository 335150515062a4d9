//! The hash chain over audit records.
//!
//! **Security-sensitive**: each audit record's chain hash covers its canonical bytes and the
//! previous record's chain hash, so changing, removing, inserting or reordering any record
//! changes every chain hash after it. The chain gives cheap sequential verification of the
//! stored table; the Merkle tree ([`crate::merkle`]) gives the compact proofs and signed
//! checkpoints that make the history verifiable from outside.

use sha2::{Digest, Sha256};

use crate::merkle::leaf_hash;
use crate::{Hash, LedgerError};

/// The "previous chain hash" of the first record.
pub const GENESIS: Hash = [0u8; 32];

/// The chain hash of a record: `SHA-256(prev ‖ leaf_hash(entry))`.
///
/// `entry` is the record's canonical bytes; `prev` is the previous record's chain hash, or
/// [`GENESIS`] for the first record. Hashing the RFC 9162 leaf hash rather than the raw bytes
/// ties the chain to the very value that is appended to the Merkle tree, and gives every input
/// a fixed length, so no two (prev, entry) pairs can be confused.
pub fn chain_hash(prev: &Hash, entry: &[u8]) -> Hash {
    chain_hash_from_leaf(prev, &leaf_hash(entry))
}

/// [`chain_hash`] for a caller that already holds the entry's leaf hash (verification hashes
/// each entry once for both the chain and the Merkle tree).
pub fn chain_hash_from_leaf(prev: &Hash, leaf: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// Checks one link: that `claimed` is the chain hash of `entry` after `prev`.
pub fn verify_link(prev: &Hash, entry: &[u8], claimed: &Hash) -> Result<(), LedgerError> {
    if chain_hash(prev, entry) == *claimed {
        Ok(())
    } else {
        Err(LedgerError::ChainMismatch)
    }
}

/// The chain hash after appending `entries` in order, starting from `prev`.
pub fn chain_over<'a, I>(prev: &Hash, entries: I) -> Hash
where
    I: IntoIterator<Item = &'a [u8]>,
{
    entries
        .into_iter()
        .fold(*prev, |acc, entry| chain_hash(&acc, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_hash_is_sha256_of_prev_and_leaf_hash() {
        let mut input = GENESIS.to_vec();
        input.extend_from_slice(&leaf_hash(b"record"));
        let want: Hash = Sha256::digest(&input).into();
        assert_eq!(chain_hash(&GENESIS, b"record"), want);
    }

    #[test]
    fn any_change_to_history_changes_the_head() {
        let records: Vec<&[u8]> = vec![b"a", b"b", b"c"];
        let head = chain_over(&GENESIS, records.iter().copied());
        assert_ne!(head, chain_over(&GENESIS, [b"a".as_slice(), b"c", b"b"]));
        assert_ne!(head, chain_over(&GENESIS, [b"a".as_slice(), b"c"]));
        assert_ne!(head, chain_over(&GENESIS, [b"a".as_slice(), b"b", b"C"]));
        assert_ne!(head, chain_over(&[1; 32], records.iter().copied()));
    }

    #[test]
    fn verify_link_detects_tampering() {
        let h1 = chain_hash(&GENESIS, b"first");
        let h2 = chain_hash(&h1, b"second");
        assert_eq!(verify_link(&h1, b"second", &h2), Ok(()));
        assert_eq!(
            verify_link(&h1, b"Second", &h2),
            Err(LedgerError::ChainMismatch)
        );
        assert_eq!(
            verify_link(&GENESIS, b"second", &h2),
            Err(LedgerError::ChainMismatch)
        );
    }
}
