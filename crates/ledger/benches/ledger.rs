//! Benchmarks of the ledger core: chain hashing, proof verification at a realistic-to-large tree
//! size (10^8 leaves) and proof generation with and without cached subtree roots.
//!
//! Not security-sensitive itself, but the verification figures tell operators how cheap an
//! audit is.

#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failing precondition should abort the run loudly"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use querywarden_ledger::chain::{GENESIS, chain_hash};
use querywarden_ledger::merkle::{
    CompactRange, LeafHashes, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
    verify_consistency, verify_inclusion,
};
use querywarden_ledger::{Hash, LedgerError};

const BIG: u64 = 100_000_000;

/// A synthetic tree of any size whose leaves are all the same hash, so proofs for a 10^8-leaf
/// tree can be built without 10^8 leaves.
///
/// The trick: when every leaf is equal, the Merkle Tree Hash of a range depends only on its
/// length. Perfect subtrees are memoised by height (`perfect[h]` is the root of 2^h equal
/// leaves, 64 entries in all), and any other length L splits, exactly as RFC 9162 does, into a
/// perfect left part of 2^k leaves and a remainder: MTH(L) = node(perfect[k], MTH(L - 2^k)).
/// So every `subtree_root` answer costs O(log L) hashes and the proofs are genuine proofs for
/// that tree, which the verifiers cannot tell apart from real ones.
struct SameLeafTree {
    perfect: Vec<Hash>,
}

impl SameLeafTree {
    fn new(leaf: Hash) -> Self {
        let mut perfect = vec![leaf];
        for h in 1..64 {
            let below = perfect[h - 1];
            perfect.push(node_hash(&below, &below));
        }
        Self { perfect }
    }

    fn mth_len(&self, len: u64) -> Hash {
        if len == 0 {
            return empty_root();
        }
        if len.is_power_of_two() {
            return self.perfect[len.trailing_zeros() as usize];
        }
        let k = 1u64 << (63 - (len - 1).leading_zeros());
        node_hash(
            &self.perfect[k.trailing_zeros() as usize],
            &self.mth_len(len - k),
        )
    }
}

impl LeafHashes for SameLeafTree {
    fn leaf(&self, _index: u64) -> Result<Hash, LedgerError> {
        Ok(self.perfect[0])
    }
    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        Some(self.mth_len(end - start))
    }
}

/// A real tree of distinct leaves with every perfect, aligned subtree root precomputed, like
/// storage that keeps interior nodes (tiles) next to the leaves.
struct CachedTree {
    levels: Vec<Vec<Hash>>,
}

impl CachedTree {
    fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while let Some(last) = levels.last().filter(|l| l.len() > 1) {
            let next = last
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }
}

impl LeafHashes for CachedTree {
    fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        self.levels[0]
            .get(index as usize)
            .copied()
            .ok_or(LedgerError::LeafUnavailable { index })
    }
    fn subtree_root(&self, start: u64, end: u64) -> Option<Hash> {
        let len = end - start;
        if !len.is_power_of_two() || !start.is_multiple_of(len) {
            return None;
        }
        let level = self.levels.get(len.trailing_zeros() as usize)?;
        level.get((start / len) as usize).copied()
    }
}

fn bench_chain(c: &mut Criterion) {
    let entry = [0x5Au8; 200];
    let mut group = c.benchmark_group("chain_hash");
    group.throughput(Throughput::Bytes(entry.len() as u64));
    group.bench_function("200_byte_entry", |b| {
        b.iter(|| chain_hash(black_box(&GENESIS), black_box(&entry)))
    });
    group.finish();

    c.bench_function("compact_range_push", |b| {
        let mut range = CompactRange::new();
        let leaf = leaf_hash(b"entry");
        b.iter(|| range.push(black_box(leaf)))
    });
}

fn bench_verify(c: &mut Criterion) {
    let tree = SameLeafTree::new(leaf_hash(b"synthetic audit record"));
    let root = tree.mth_len(BIG);
    let leaf = tree.perfect[0];

    let index = 61_803_398;
    let proof = inclusion_proof(index, BIG, &tree).expect("proof");
    verify_inclusion(index, BIG, &leaf, &proof, &root).expect("synthetic proof verifies");
    c.bench_function("verify_inclusion/size_1e8", |b| {
        b.iter(|| verify_inclusion(black_box(index), BIG, &leaf, black_box(&proof), &root))
    });

    let old = 73_205_080;
    let old_root = tree.mth_len(old);
    let cproof = consistency_proof(old, BIG, &tree).expect("proof");
    verify_consistency(old, BIG, &old_root, &root, &cproof).expect("synthetic proof verifies");
    c.bench_function("verify_consistency/1e8_from_73205080", |b| {
        b.iter(|| verify_consistency(black_box(old), BIG, &old_root, &root, black_box(&cproof)))
    });
    println!(
        "proof lengths at 1e8: inclusion {}, consistency {}",
        proof.len(),
        cproof.len()
    );
}

fn bench_generate(c: &mut Criterion) {
    let tree = SameLeafTree::new(leaf_hash(b"synthetic audit record"));
    c.bench_function("inclusion_proof/synthetic_1e8_cached", |b| {
        b.iter(|| inclusion_proof(black_box(61_803_398), BIG, &tree))
    });

    const N: u64 = 1 << 16;
    let leaves: Vec<Hash> = (0..N).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let size = N - 3; // not a power of two, so the right edge needs real recursion
    let cached = CachedTree::new(leaves.clone());
    let mut group = c.benchmark_group("inclusion_proof/65533_leaves");
    group.bench_with_input(BenchmarkId::new("cached_subtrees", size), &size, |b, &s| {
        b.iter(|| inclusion_proof(black_box(12_345), s, &cached))
    });
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::new("leaves_only", size), &size, |b, &s| {
        b.iter(|| inclusion_proof(black_box(12_345), s, &leaves))
    });
    group.finish();
}

criterion_group!(benches, bench_chain, bench_verify, bench_generate);
criterion_main!(benches);
