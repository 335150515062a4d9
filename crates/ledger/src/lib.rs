//! querywarden-ledger: the cryptographic core of the tamper-evident audit log.
//!
//! **Security-sensitive.** Everything the audit log promises — that a record cannot be changed,
//! removed or reordered without detection, and that the bureau cannot show two different
//! histories to two auditors — rests on the code in this crate. It is pure: no database, no
//! clock, no network, no files (the tests and benches read files; the library never does).
//!
//! - [`merkle`]: RFC 9162 §2.1 Merkle tree hashing, an append-only frontier
//!   ([`merkle::CompactRange`]) that storage persists, inclusion and consistency proofs and their
//!   verification.
//! - [`chain`]: the per-record hash chain (each record commits to its predecessor).
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies signed as C2SP `signed-note`s with Ed25519.
//! - [`LedgerError`]: the one error type for all of the above.

mod error;

pub mod chain;
pub mod checkpoint;
pub mod merkle;

pub use error::LedgerError;

/// A SHA-256 digest: a Merkle node, a leaf hash, a tree root or a chain hash.
pub type Hash = [u8; 32];

/// Converts wire bytes (for example a base64-decoded proof element) into a [`Hash`](type@Hash).
///
/// Anything but exactly 32 bytes is rejected, so a truncated or padded hash can never reach the
/// verification code as if it were a real node.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, LedgerError> {
    Hash::try_from(bytes).map_err(|_| LedgerError::BadHashLength(bytes.len()))
}
