//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): generating them from a source
//! of leaf hashes, and verifying them.
//!
//! **Security-sensitive**: the verifiers are what an auditor relies on to know that a record is
//! in the log and that the log only ever grew. They follow the RFC's verification algorithms
//! step by step, plus explicit rules for the sizes the RFC leaves undefined (0 and old = new).
//! Generation is not trusted: a wrong proof is simply rejected by the verifier.

use super::{empty_root, node_hash, split_point};
use crate::{Hash, LedgerError};

/// A source of leaf hashes for proof generation, e.g. the audit table or an in-memory vector.
///
/// `subtree_root` is an optional shortcut: an implementor that caches interior nodes (for
/// example perfect subtrees stored as tiles) returns the Merkle Tree Hash of leaves
/// `start..end` (end exclusive) and spares the generator from rehashing those leaves. It is
/// only ever asked about non-empty ranges inside the tree. Returning `None` is always correct.
pub trait LeafHashes {
    /// The leaf hash at 0-based `index`.
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError>;

    /// The Merkle Tree Hash of leaves `start..end`, if the implementor has it cached.
    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        let _ = (start, end);
        None
    }
}

impl LeafHashes for [Hash] {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(LedgerError::LeafUnavailable { index })
    }
}

impl LeafHashes for Vec<Hash> {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        self.as_slice().leaf(index)
    }
}

impl<T: LeafHashes + ?Sized> LeafHashes for &T {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        (**self).leaf(index)
    }
    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        (**self).subtree_root(start, end)
    }
}

impl<T: LeafHashes + ?Sized> LeafHashes for Box<T> {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        (**self).leaf(index)
    }
    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        (**self).subtree_root(start, end)
    }
}

/// The Merkle Tree Hash of leaves `start..end` of `leaves` (RFC 9162 §2.1.1), using the
/// source's cached subtree roots where it has them. `start == end` gives the empty root.
pub fn subtree_root<L: LeafHashes + ?Sized>(
    leaves: &L,
    start: u64,
    end: u64,
) -> Result<Hash, LedgerError> {
    if end < start {
        return Err(LedgerError::InvalidTreeSizes {
            old_size: start,
            new_size: end,
        });
    }
    if end == start {
        return Ok(empty_root());
    }
    mth(leaves, start, end)
}

/// MTH of a non-empty range; recursion depth is at most 64 (one level per bit of the size).
fn mth<L: LeafHashes + ?Sized>(leaves: &L, start: u64, end: u64) -> Result<Hash, LedgerError> {
    if let Some(cached) = leaves.subtree_root(start, end) {
        return Ok(cached);
    }
    let n = end - start;
    if n == 1 {
        return leaves.leaf(start);
    }
    let mid = start + split_point(n);
    Ok(node_hash(
        &mth(leaves, start, mid)?,
        &mth(leaves, mid, end)?,
    ))
}

/// The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree made of the
/// first `size` leaves of `leaves`, ordered from the leaf's sibling up to the root's child.
///
/// Cost: O(log n) subtree roots; without cached roots those add up to about n leaf reads.
pub fn inclusion_proof<L: LeafHashes + ?Sized>(
    index: u64,
    size: u64,
    leaves: &L,
) -> Result<Vec<Hash>, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, recording the sibling of the side that holds `index`; the RFC's
    // PATH puts the deepest sibling first, hence the reverse at the end.
    let mut path = Vec::with_capacity(64);
    let (mut start, mut end) = (0u64, size);
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if index < mid {
            path.push(mth(leaves, mid, end)?);
            end = mid;
        } else {
            path.push(mth(leaves, start, mid)?);
            start = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof (RFC 9162 §2.1.4.1) between the tree of the first `old_size` leaves
/// and the tree of the first `new_size` leaves.
///
/// `old_size == new_size` gives the empty proof. `old_size == 0 < new_size` is refused with
/// [`LedgerError::InvalidTreeSizes`]: every tree extends the empty tree, so such a proof would
/// prove nothing about the new root, and [`verify_consistency`] rejects it for that reason.
pub fn consistency_proof<L: LeafHashes + ?Sized>(
    old_size: u64,
    new_size: u64,
    leaves: &L,
) -> Result<Vec<Hash>, LedgerError> {
    if old_size > new_size || (old_size == 0 && new_size > 0) {
        return Err(LedgerError::InvalidTreeSizes { old_size, new_size });
    }
    let mut proof = Vec::with_capacity(64);
    if old_size == new_size {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start..end], b), unrolled: descend towards the old tree's right edge,
    // recording the sibling subtrees; `whole_old_tree` is the RFC's flag b, which says whether
    // the current subtree is still the whole old tree (whose root the verifier already has).
    let (mut start, mut end) = (0u64, new_size);
    let mut whole_old_tree = true;
    loop {
        let m = old_size - start;
        let n = end - start;
        if m == n {
            if !whole_old_tree {
                proof.push(mth(leaves, start, end)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(mth(leaves, start + k, end)?);
            end = start + k;
        } else {
            proof.push(mth(leaves, start, start + k)?);
            start += k;
            whole_old_tree = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Verifies that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves whose root is
/// `root`, following RFC 9162 §2.1.3.2.
///
/// Errors: [`LedgerError::IndexOutOfRange`] if `index >= size` (so nothing is ever included in
/// the empty tree), [`LedgerError::BadProof`] if the proof is longer or shorter than the path
/// from that index, [`LedgerError::RootMismatch`] if it does not lead to `root`.
///
/// `size` only fixes the shape of the path, and different sizes can share a shape, so `size`
/// and `root` must come from the same verified checkpoint.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    // Step 1.
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    // Steps 2-3: fn is the node's index at the current level, sn the last index at that level.
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if snode == 0 {
            return Err(LedgerError::BadProof(
                "the inclusion proof is longer than the path to the root",
            ));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                // A right-edge node with no sibling at these levels is promoted unchanged.
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    if snode != 0 {
        return Err(LedgerError::BadProof(
            "the inclusion proof is shorter than the path to the root",
        ));
    }
    if r != *root {
        return Err(LedgerError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` is an append-only extension
/// of the tree of `old_size` leaves with root `old_root`, following RFC 9162 §2.1.4.2.
///
/// The RFC's algorithm covers `0 < old_size < new_size`; the other cases are decided as
/// follows (and as the transparency-dev test vectors expect):
/// - `old_size > new_size`: [`LedgerError::InvalidTreeSizes`].
/// - `old_size == new_size`: the proof must be empty and the roots equal (and, at size 0, equal
///   to the empty root, since only one tree of size 0 exists).
/// - `old_size == 0 < new_size`: [`LedgerError::InvalidTreeSizes`]; nothing about `new_root`
///   could be proven, so accepting would only give a false sense of assurance.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::InvalidTreeSizes { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(LedgerError::BadProof(
                "the consistency proof between equal sizes must be empty",
            ));
        }
        if old_root != new_root || (old_size == 0 && *old_root != empty_root()) {
            return Err(LedgerError::RootMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        return Err(LedgerError::InvalidTreeSizes { old_size, new_size });
    }
    // Step 1.
    let Some((head, tail)) = proof.split_first() else {
        return Err(LedgerError::BadProof("the consistency proof is empty"));
    };
    // Step 2: when the old tree is perfect its root is itself a node of the new tree and is
    // left out of the proof; put it back as the starting point.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (head, tail)
    };
    // Step 3.
    let mut fnode = old_size - 1;
    let mut snode = new_size - 1;
    // Step 4: skip the levels where the old tree's last node is a right child whose left
    // sibling is already folded into `first`.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    let mut fr = *first;
    let mut sr = *first;
    // Step 6.
    for c in rest {
        if snode == 0 {
            return Err(LedgerError::BadProof(
                "the consistency proof is longer than the path to the root",
            ));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if snode != 0 {
        return Err(LedgerError::BadProof(
            "the consistency proof is shorter than the path to the root",
        ));
    }
    if fr != *old_root || sr != *new_root {
        return Err(LedgerError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{CompactRange, leaf_hash, root_from_leaf_hashes};
    use super::*;

    const MAX: u64 = 33;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("record {i}").as_bytes()))
            .collect()
    }

    fn roots(all: &[Hash]) -> Vec<Hash> {
        (0..=all.len())
            .map(|n| root_from_leaf_hashes(&all[..n]))
            .collect()
    }

    fn flip(h: &Hash, bit: usize) -> Hash {
        let mut out = *h;
        out[bit / 8] ^= 1 << (bit % 8);
        out
    }

    #[test]
    fn inclusion_proofs_verify_for_every_index_and_size_up_to_33() {
        let all = leaves(MAX);
        let roots = roots(&all);
        for size in 1..=MAX {
            let root = roots[size as usize];
            for index in 0..size {
                let proof = inclusion_proof(index, size, &all).unwrap();
                let leaf = all[index as usize];
                verify_inclusion(index, size, &leaf, &proof, &root).unwrap();

                // Every tamper must fail: wrong leaf, wrong index, wrong size, flipped bit,
                // truncated or extended proof.
                assert!(verify_inclusion(index, size, &flip(&leaf, 0), &proof, &root).is_err());
                if size > 1 {
                    let other = (index + 1) % size;
                    assert!(verify_inclusion(other, size, &leaf, &proof, &root).is_err());
                }
                // (Another size may share the proof's shape, e.g. index 0 in sizes 5 and 6,
                // so the size alone is not checked here; it is bound to the root by the
                // signed checkpoint.)
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], 255);
                    assert_eq!(
                        verify_inclusion(index, size, &leaf, &bad, &root),
                        Err(LedgerError::RootMismatch)
                    );
                }
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(verify_inclusion(index, size, &leaf, short, &root).is_err());
                }
                let mut long = proof.clone();
                long.push(root);
                assert!(verify_inclusion(index, size, &leaf, &long, &root).is_err());
            }
            assert_eq!(
                inclusion_proof(size, size, &all),
                Err(LedgerError::IndexOutOfRange { index: size, size })
            );
        }
    }

    #[test]
    fn consistency_proofs_verify_for_every_pair_of_sizes_up_to_33() {
        let all = leaves(MAX);
        let roots = roots(&all);
        for new in 0..=MAX {
            for old in 0..=new {
                let (r1, r2) = (roots[old as usize], roots[new as usize]);
                if old == 0 && new > 0 {
                    assert!(consistency_proof(old, new, &all).is_err());
                    assert!(verify_consistency(old, new, &r1, &r2, &[]).is_err());
                    continue;
                }
                let proof = consistency_proof(old, new, &all).unwrap();
                verify_consistency(old, new, &r1, &r2, &proof).unwrap();

                if old == new {
                    assert!(proof.is_empty());
                    assert!(verify_consistency(old, new, &r1, &flip(&r2, 3), &proof).is_err());
                    continue;
                }
                assert!(verify_consistency(old, new, &flip(&r1, 3), &r2, &proof).is_err());
                assert!(verify_consistency(old, new, &r1, &flip(&r2, 3), &proof).is_err());
                assert!(verify_consistency(old, new, &r2, &r1, &proof).is_err());
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], 7);
                    assert!(
                        verify_consistency(old, new, &r1, &r2, &bad).is_err(),
                        "{old}->{new} @{i}"
                    );
                }
                let short = &proof[..proof.len() - 1];
                assert!(verify_consistency(old, new, &r1, &r2, short).is_err());
                let mut long = proof.clone();
                long.push(r2);
                assert!(verify_consistency(old, new, &r1, &r2, &long).is_err());
                if new < MAX {
                    let r3 = roots[new as usize + 1];
                    assert!(verify_consistency(old, new + 1, &r1, &r3, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn consistency_rejects_backwards_and_empty_old_trees() {
        let e = empty_root();
        assert_eq!(
            verify_consistency(2, 1, &e, &e, &[]),
            Err(LedgerError::InvalidTreeSizes {
                old_size: 2,
                new_size: 1
            })
        );
        assert_eq!(verify_consistency(0, 0, &e, &e, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &[1; 32], &[1; 32], &[]),
            Err(LedgerError::RootMismatch)
        );
        assert!(consistency_proof(3, 2, &leaves(3)).is_err());
    }

    #[test]
    fn subtree_root_uses_cached_roots_and_matches_mth() {
        /// Leaves are unavailable; only cached perfect subtrees of the vector are served, so
        /// success proves the generator consults `subtree_root` first.
        struct OnlyCache(Vec<Hash>);
        impl LeafHashes for OnlyCache {
            fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
                Err(LedgerError::LeafUnavailable { index })
            }
            fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
                let slice = self.0.get(start as usize..end as usize)?;
                Some(root_from_leaf_hashes(slice))
            }
        }
        let all = leaves(21);
        let cache = OnlyCache(all.clone());
        for n in 0..=21 {
            assert_eq!(
                subtree_root(&cache, 0, n).unwrap(),
                root_from_leaf_hashes(&all[..n as usize])
            );
        }
        assert_eq!(
            inclusion_proof(5, 21, &cache).unwrap(),
            inclusion_proof(5, 21, &all).unwrap()
        );
        assert_eq!(
            consistency_proof(7, 21, &cache).unwrap(),
            consistency_proof(7, 21, &all).unwrap()
        );
        // A dyn source works too.
        let dyn_source: &dyn LeafHashes = &all;
        assert_eq!(
            inclusion_proof(5, 21, dyn_source).unwrap(),
            inclusion_proof(5, 21, &all).unwrap()
        );
        assert_eq!(
            inclusion_proof(0, 22, &all),
            Err(LedgerError::LeafUnavailable { index: 21 })
        );
        assert_eq!(
            CompactRange::from_leaf_hashes(&all).root(),
            subtree_root(&all, 0, 21).unwrap()
        );
    }
}
