//! Every perfect, aligned subtree root of a Merkle tree kept in memory, so that inclusion and
//! consistency proofs cost O(log n) hashes instead of rehashing the leaves (about 64 bytes of
//! memory per record).

use querywarden_ledger::merkle::{LeafHashes, node_hash};
use querywarden_ledger::{Hash, LedgerError};

/// `levels[h][i]` is the root of leaves `[i·2^h, (i+1)·2^h)`.
#[derive(Debug, Default)]
pub struct LevelCache {
    levels: Vec<Vec<Hash>>,
}

impl LevelCache {
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut h = 0;
        let mut node = leaf;
        loop {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[h];
            level.push(node);
            let n = level.len();
            if !n.is_multiple_of(2) {
                break;
            }
            node = node_hash(&level[n - 2], &level[n - 1]);
            h += 1;
        }
    }
}

impl LeafHashes for LevelCache {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        self.levels
            .first()
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or(LedgerError::LeafUnavailable { index })
    }

    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        let n = end.checked_sub(start)?;
        if n == 0 || !n.is_power_of_two() || !start.is_multiple_of(n) {
            return None;
        }
        let h = n.trailing_zeros() as usize;
        self.levels.get(h)?.get((start >> h) as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use querywarden_ledger::merkle::{
        consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes,
    };

    #[test]
    fn proofs_from_the_cache_equal_proofs_from_the_leaves() {
        let leaves: Vec<Hash> = (0u32..77).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut cache = LevelCache::new();
        for l in &leaves {
            cache.push(*l);
        }
        assert_eq!(cache.len(), 77);
        for size in [1u64, 2, 5, 32, 33, 64, 77] {
            for index in [0, size / 2, size - 1] {
                assert_eq!(
                    inclusion_proof(index, size, &cache).unwrap(),
                    inclusion_proof(index, size, &leaves).unwrap()
                );
            }
            for old in [1, size / 3 + 1, size] {
                assert_eq!(
                    consistency_proof(old, size, &cache).unwrap(),
                    consistency_proof(old, size, &leaves).unwrap()
                );
            }
        }
        assert_eq!(
            querywarden_ledger::merkle::subtree_root(&cache, 0, 64).unwrap(),
            root_from_leaf_hashes(&leaves[..64])
        );
    }
}
