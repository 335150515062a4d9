//! Runs every transparency-dev/merkle test vector in `tests/data/merkle/` (see
//! `tests/data/README.md`) through the Merkle code: root hashes, inclusion and consistency
//! proof verification (happy paths and every corrupted variant), and proof generation.
//!
//! Security-sensitive: these vectors are the independent evidence that our RFC 9162 code agrees
//! with the reference implementation, so a missing data folder fails the test instead of
//! passing with nothing checked.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions: a broken vector file must fail loudly"
)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use querywarden_ledger::merkle::{
    CompactRange, consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes,
    verify_consistency, verify_inclusion,
};
use querywarden_ledger::{Hash, hash_from_slice};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/merkle")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

/// Roots in the vectors are opaque byte strings, and a few are deliberately not 32 bytes
/// (`"don't care 1"`, empty strings); the reference verifier only ever compares them for
/// equality. Our API takes `Hash` = `[u8; 32]`, so such a root is replaced by a 32-byte stand-in
/// derived from it: equal inputs give equal stand-ins and different inputs different ones,
/// which is all a verifier can observe about an opaque root.
///
/// Leaf hashes and proof elements are not opaque: the reference implementation rejects a leaf
/// hash of the wrong length, and our wire layer (`hash_from_slice`) rejects any hash of the
/// wrong length, so those go through strict decoding instead.
fn stand_in(bytes: &[u8]) -> Hash {
    hash_from_slice(bytes).unwrap_or_else(|_| {
        let mut h = Sha256::new();
        h.update(b"querywarden test stand-in for a non-32-byte value");
        h.update(bytes);
        h.finalize().into()
    })
}

struct Decoded {
    /// The proof, with any wrong-length element replaced by a stand-in so the verifier itself
    /// can also be shown to reject the vector.
    proof: Vec<Hash>,
    /// Whether strict decoding (exactly 32 bytes per element) accepted every element.
    strict_ok: bool,
}

fn decode_proof(v: &Value) -> Decoded {
    let raw: Vec<Vec<u8>> = match v {
        Value::Null => vec![],
        Value::Array(items) => items.iter().map(b64).collect(),
        other => panic!("unexpected proof {other}"),
    };
    Decoded {
        proof: raw.iter().map(|b| stand_in(b)).collect(),
        strict_ok: raw.iter().all(|b| hash_from_slice(b).is_ok()),
    }
}

struct Tree {
    leaves: Vec<Hash>,
    roots: Vec<Hash>,
}

fn roots_json() -> Tree {
    let v = read_json(&data_dir().join("roots.json"));
    let leaves: Vec<Hash> = v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| leaf_hash(&hex::decode(x.as_str().unwrap()).unwrap()))
        .collect();
    let roots: Vec<Hash> = v["root_hashes_by_tree_size_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| hash_from_slice(&hex::decode(x.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    assert_eq!(roots.len(), leaves.len() + 1, "one root per size 0..=n");
    Tree { leaves, roots }
}

#[test]
fn roots_json_matches_mth_and_compact_range() {
    // The README: leaves are the raw inputs, hashed as RFC 6962 leaves (0x00 prefix).
    let tree = roots_json();
    assert!(tree.leaves.len() >= 8);
    let mut range = CompactRange::new();
    for (size, want) in tree.roots.iter().enumerate() {
        assert_eq!(
            &root_from_leaf_hashes(&tree.leaves[..size]),
            want,
            "size {size}"
        );
        assert_eq!(&range.root(), want, "compact range at size {size}");
        if let Some(leaf) = tree.leaves.get(size) {
            range.push(*leaf);
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    files: usize,
    accepted: usize,
    rejected: usize,
    rejected_by_decoding_only: usize,
    generated_and_compared: usize,
}

#[test]
fn every_inclusion_vector_behaves_as_expected() {
    let tree = roots_json();
    let mut files = Vec::new();
    json_files(&data_dir().join("inclusion"), &mut files);
    assert!(
        files.len() >= 50,
        "inclusion vectors missing: found {}",
        files.len()
    );

    let mut t = Tally::default();
    for path in &files {
        let v = read_json(path);
        let name = path.strip_prefix(data_dir()).unwrap().display().to_string();
        let index = v["leafIdx"].as_u64().unwrap();
        let size = v["treeSize"].as_u64().unwrap();
        let root_raw = b64(&v["root"]);
        let leaf_raw = b64(&v["leafHash"]);
        let want_err = v["wantErr"].as_bool().unwrap();
        let decoded = decode_proof(&v["proof"]);
        let root = stand_in(&root_raw);
        t.files += 1;

        let Ok(leaf) = hash_from_slice(&leaf_raw) else {
            assert!(
                want_err,
                "{name}: a leaf hash that is not 32 bytes must be rejected"
            );
            t.rejected += 1;
            t.rejected_by_decoding_only += 1;
            continue;
        };
        let result = verify_inclusion(index, size, &leaf, &decoded.proof, &root);
        // Wrong-length proof elements are refused by decoding; the verifier must reject the
        // vector on its own as well.
        assert_eq!(result.is_err(), want_err, "{name}: got {result:?}");
        assert!(decoded.strict_ok || want_err, "{name}");
        if want_err {
            t.rejected += 1;
        } else {
            t.accepted += 1;
            assert!(decoded.strict_ok, "{name}: a happy path must be decodable");
            // Generated proofs must equal the published ones.
            if size < tree.roots.len() as u64 && root == tree.roots[size as usize] {
                let generated = inclusion_proof(index, size, &tree.leaves).unwrap();
                assert_eq!(generated, decoded.proof, "{name}: generated proof differs");
                assert_eq!(leaf, tree.leaves[index as usize], "{name}");
            } else {
                // Not the roots.json tree (the single-entry vector): the proof is over a
                // one-leaf tree made of the given leaf.
                let generated = inclusion_proof(index, size, &vec![leaf; size as usize]).unwrap();
                assert_eq!(generated, decoded.proof, "{name}: generated proof differs");
            }
            t.generated_and_compared += 1;
        }
    }
    eprintln!("inclusion: {t:?}");
    assert!(t.accepted >= 5 && t.rejected >= 40, "{t:?}");
    assert_eq!(t.generated_and_compared, t.accepted);
}

#[test]
fn every_consistency_vector_behaves_as_expected() {
    let tree = roots_json();
    let mut files = Vec::new();
    json_files(&data_dir().join("consistency"), &mut files);
    assert!(
        files.len() >= 50,
        "consistency vectors missing: found {}",
        files.len()
    );

    let mut t = Tally::default();
    for path in &files {
        let v = read_json(path);
        let name = path.strip_prefix(data_dir()).unwrap().display().to_string();
        let size1 = v["size1"].as_u64().unwrap();
        let size2 = v["size2"].as_u64().unwrap();
        let root1_raw = b64(&v["root1"]);
        let root2_raw = b64(&v["root2"]);
        let want_err = v["wantErr"].as_bool().unwrap();
        let decoded = decode_proof(&v["proof"]);
        let (root1, root2) = (stand_in(&root1_raw), stand_in(&root2_raw));

        let result = verify_consistency(size1, size2, &root1, &root2, &decoded.proof);
        assert_eq!(result.is_err(), want_err, "{name}: got {result:?}");
        assert!(decoded.strict_ok || want_err, "{name}");
        t.files += 1;
        if want_err {
            t.rejected += 1;
            continue;
        }
        t.accepted += 1;
        let ours = |size: u64, root: &Hash| {
            (size as usize) < tree.roots.len() && tree.roots[size as usize] == *root
        };
        if ours(size1, &root1) && ours(size2, &root2) {
            assert!(decoded.strict_ok, "{name}");
            let generated = consistency_proof(size1, size2, &tree.leaves).unwrap();
            assert_eq!(generated, decoded.proof, "{name}: generated proof differs");
            t.generated_and_compared += 1;
        } else {
            // "sizes are equal (one) and proof is empty": opaque 12-byte roots, so only the
            // verifier's logic applies; the wire layer would refuse such roots.
            assert!(decoded.proof.is_empty() && size1 == size2, "{name}");
        }
    }
    eprintln!("consistency: {t:?}");
    assert!(t.accepted >= 5 && t.rejected >= 60, "{t:?}");
    assert!(t.generated_and_compared >= 5, "{t:?}");
}

#[test]
fn all_vector_files_were_visited() {
    let mut files = Vec::new();
    json_files(&data_dir(), &mut files);
    // roots.json + inclusion/** + consistency/**; the two tests above assert their halves.
    assert!(
        files.len() >= 190,
        "expected the full vector set, found {}",
        files.len()
    );
    assert!(data_dir().join("LICENSE").is_file());
}
