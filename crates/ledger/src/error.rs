//! The error type of the ledger core.
//!
//! **Security-sensitive**: callers decide whether the audit log is intact from these values, so
//! each failure has its own variant (a bad proof is not a missing leaf, a bad signature is not an
//! unknown key). Messages never contain key material.

use thiserror::Error;

/// Everything that can go wrong in hashing, proving, verifying, signing or parsing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A leaf index is not below the tree size it is claimed to be in.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The 0-based leaf index asked about.
        index: u64,
        /// The tree size it was asked about.
        size: u64,
    },

    /// A pair of tree sizes for which no consistency proof exists or means anything
    /// (old > new, or old = 0 < new).
    #[error("no consistency proof exists from tree size {old_size} to {new_size}")]
    InvalidTreeSizes {
        /// The earlier tree size.
        old_size: u64,
        /// The later tree size.
        new_size: u64,
    },

    /// A proof has the wrong shape (too short, too long, empty or non-empty when it must not
    /// be). The reason says which.
    #[error("malformed proof: {0}")]
    BadProof(&'static str),

    /// A proof was well-formed but the root it leads to is not the expected one.
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,

    /// Bytes that should have been a 32-byte hash were not.
    #[error("a hash must be 32 bytes, got {0}")]
    BadHashLength(usize),

    /// A persisted compact range (frontier) is internally inconsistent.
    #[error("invalid compact range: {0}")]
    BadCompactRange(&'static str),

    /// The tree already holds `u64::MAX` leaves; nothing more can be appended.
    #[error("the tree cannot grow beyond u64::MAX leaves")]
    TreeFull,

    /// A [`crate::merkle::LeafHashes`] source has no leaf at this index.
    #[error("leaf {index} is not available from the leaf source")]
    LeafUnavailable {
        /// The 0-based index that was asked for.
        index: u64,
    },

    /// A [`crate::merkle::LeafHashes`] source failed for its own reasons (e.g. storage).
    #[error("leaf source failed: {0}")]
    LeafSource(String),

    /// A record's stored chain hash does not cover its predecessor and its canonical bytes.
    #[error("chain hash mismatch: the record or its predecessor was altered")]
    ChainMismatch,

    /// A key name is empty or contains whitespace, '+' or control characters.
    #[error("invalid key name (must be non-empty, without whitespace, '+' or control characters)")]
    InvalidKeyName,

    /// A verifier key, signer key or public key could not be decoded or is unsafe to use.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),

    /// A signed note does not follow the C2SP signed-note format.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),

    /// A note body does not follow the C2SP tlog-checkpoint format.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),

    /// A signature line from a known key did not verify. The whole note is rejected.
    #[error("signature verification failed")]
    BadSignature,

    /// No signature in the note comes from any of the keys we trust.
    #[error("the note carries no signature from a known key")]
    UnknownKey,

    /// The operating system's random generator failed while generating a key.
    #[error("the system random number generator failed")]
    Randomness,
}
