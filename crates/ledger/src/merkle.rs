//! RFC 9162 §2.1 Merkle tree hashing over audit records, and the append-only frontier
//! ([`CompactRange`]) that storage persists so it never has to rescan the log.
//!
//! **Security-sensitive**: the Merkle root in a signed checkpoint is the bureau's commitment to
//! the whole audit history. Leaf and interior hashes are domain-separated (0x00 / 0x01
//! prefixes) so that an interior node can never be passed off as a leaf (second-preimage
//! attack on unprefixed trees). Proof generation and verification live in the `proof`
//! submodule and are re-exported here.

use sha2::{Digest, Sha256};

use crate::{Hash, LedgerError};

mod proof;

pub use proof::{
    LeafHashes, consistency_proof, inclusion_proof, subtree_root, verify_consistency,
    verify_inclusion,
};

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// The hash of one log entry: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n`; callers guarantee `n >= 2`.
///
/// This is the `k` of RFC 9162 §2.1.1: every split of a range of `n` leaves puts the first `k`
/// in a perfect left subtree. Written with `leading_zeros` so it is exact for any `u64`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "split_point needs at least two leaves");
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash (MTH) of a list of leaf hashes, straight from the RFC's recursive
/// definition. O(n) time, O(log n) stack.
///
/// Kept deliberately independent of [`CompactRange`] so the two can check each other.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            // usize and u64 agree on every supported (64-bit) target; a slice can't be larger.
            let k = split_point(leaves.len() as u64) as usize;
            let (left, right) = leaves.split_at(k);
            node_hash(&root_from_leaf_hashes(left), &root_from_leaf_hashes(right))
        }
    }
}

/// An append-only Merkle frontier: the roots of the perfect subtrees ("peaks") that make up a
/// tree of `size` leaves, one per set bit of `size`, largest (leftmost) first.
///
/// It needs at most 64 hashes whatever the size, which is why storage can persist it next to
/// every checkpoint ([`CompactRange::size`] + [`CompactRange::peaks`]) and resume with
/// [`CompactRange::from_parts`] after a restart instead of rehashing the whole log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from persisted parts.
    ///
    /// Only the shape can be checked here (one peak per set bit of `size`); whether the peaks
    /// are the true ones is proven when the resulting root is compared with a signed checkpoint,
    /// which storage must do before appending to a resumed frontier.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, LedgerError> {
        if peaks.len() != size.count_ones() as usize {
            return Err(LedgerError::BadCompactRange(
                "the number of peaks must equal the number of set bits in the size",
            ));
        }
        Ok(Self { size, peaks })
    }

    /// A frontier over the given leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: &[Hash]) -> Self {
        let mut range = Self::new();
        for leaf in leaves {
            range.push(*leaf);
        }
        range
    }

    /// The number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks, largest subtree first; persist these together with [`Self::size`].
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf hash (see [`leaf_hash`]). O(log n) hashing, no allocation beyond the
    /// peak list.
    ///
    /// At `u64::MAX` leaves — half a million years of appends at one per microsecond — the leaf
    /// is not added; use [`Self::try_push`] where that must be observable.
    pub fn push(&mut self, leaf: Hash) {
        // The only error is TreeFull, documented above as unreachable in practice.
        let _ = self.try_push(leaf);
    }

    /// Appends one leaf hash, failing with [`LedgerError::TreeFull`] at `u64::MAX` leaves.
    pub fn try_push(&mut self, leaf: Hash) -> Result<(), LedgerError> {
        let new_size = self.size.checked_add(1).ok_or(LedgerError::TreeFull)?;
        // Every trailing 1 bit of the old size is a peak of the same height as the carry; merge
        // them exactly like binary addition merges carries.
        let mut carry = leaf;
        let mut bits = self.size;
        while bits & 1 == 1 {
            let Some(left) = self.peaks.pop() else {
                // from_parts guarantees one peak per set bit, so this is unreachable; leave the
                // range unchanged rather than corrupting it.
                return Err(LedgerError::BadCompactRange(
                    "peak list shorter than size implies",
                ));
            };
            carry = node_hash(&left, &carry);
            bits >>= 1;
        }
        self.peaks.push(carry);
        self.size = new_size;
        Ok(())
    }

    /// The Merkle Tree Hash of all leaves appended so far.
    pub fn root(&self) -> Hash {
        // RFC 9162's tree puts the smaller subtrees on the right, so fold right to left.
        let mut iter = self.peaks.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, peak| node_hash(peak, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn hashes_are_domain_separated_sha256() {
        // SHA-256("") and SHA-256(0x00) are well-known constants.
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_ne!(node_hash(&[0; 32], &[1; 32]), node_hash(&[1; 32], &[0; 32]));
    }

    #[test]
    fn split_point_is_largest_power_of_two_below_n() {
        for n in 2u64..=1025 {
            let k = split_point(n);
            assert!(k.is_power_of_two() && k < n && 2 * k >= n, "n={n} k={k}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn compact_range_root_matches_mth_for_sizes_0_to_70() {
        let all = leaves(70);
        let mut range = CompactRange::new();
        assert_eq!(range.root(), empty_root());
        for n in 0..=70usize {
            assert_eq!(range.size(), n as u64);
            assert_eq!(range.peaks().len(), (n as u64).count_ones() as usize);
            assert_eq!(range.root(), root_from_leaf_hashes(&all[..n]), "size {n}");
            if let Some(leaf) = all.get(n) {
                range.push(*leaf);
            }
        }
    }

    #[test]
    fn compact_range_resumes_from_persisted_parts() {
        let all = leaves(100);
        for cut in 0..=60usize {
            let before = CompactRange::from_leaf_hashes(&all[..cut]);
            let mut resumed =
                CompactRange::from_parts(before.size(), before.peaks().to_vec()).unwrap();
            for leaf in &all[cut..] {
                resumed.push(*leaf);
            }
            assert_eq!(resumed, CompactRange::from_leaf_hashes(&all));
            assert_eq!(resumed.root(), root_from_leaf_hashes(&all));
        }
    }

    #[test]
    fn compact_range_rejects_inconsistent_parts() {
        assert!(CompactRange::from_parts(0, vec![]).is_ok());
        assert_eq!(
            CompactRange::from_parts(3, vec![[0; 32]]),
            Err(LedgerError::BadCompactRange(
                "the number of peaks must equal the number of set bits in the size"
            ))
        );
        assert!(CompactRange::from_parts(0, vec![[0; 32]]).is_err());
        assert!(CompactRange::from_parts(4, vec![[0; 32], [1; 32]]).is_err());
    }

    #[test]
    fn compact_range_refuses_to_overflow() {
        let peaks = vec![[7u8; 32]; 64];
        let mut full = CompactRange::from_parts(u64::MAX, peaks).unwrap();
        assert_eq!(full.try_push([0; 32]), Err(LedgerError::TreeFull));
        let before = full.clone();
        full.push([0; 32]);
        assert_eq!(full, before);
    }
}
