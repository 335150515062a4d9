//! Custody of personal data at rest (§6: results are confidential): sealing and opening with
//! AES-256-GCM (the `aes-gcm` crate), envelope style.
//!
//! Security-sensitive. Every sealed blob has its own random 256-bit data key; the data key is
//! itself encrypted (wrapped) with AES-256-GCM under the current custody master key, which
//! lives in the key directory (`custody-<id>.key`, see `keys`), never in the database. Both
//! encryptions are bound with associated data to what the blob is (`subject:115-000012`,
//! `result:115-000012:C0101`, …), so a blob copied onto another row does not open.
//!
//! Crypto-shredding: deleting a result's wrapped data key (and its ciphertext) makes it
//! unrecoverable even from a backup of the database, because the data key existed nowhere
//! else. Registrations' subjects use a different data key from their results, so destroying a
//! result never touches the registration, which is kept at least five years.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use querywarden_storage::SealedBlob;

use crate::keys::KeyRing;

pub mod subjects;

/// Why sealing or opening failed. Never carries the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyError {
    #[error("no custody master key is loaded")]
    NoMasterKey,
    #[error("custody master key {0} is not in the key ring")]
    UnknownMasterKey(String),
    #[error("the system random number generator failed")]
    Randomness,
    #[error("encryption failed")]
    Seal,
    #[error("sealed data failed authentication (wrong key, wrong row, or tampering)")]
    Open,
}

impl CustodyError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoMasterKey => "custody.no_master_key",
            Self::UnknownMasterKey(_) => "custody.unknown_master_key",
            Self::Randomness => "custody.randomness",
            Self::Seal => "custody.seal",
            Self::Open => "custody.open",
        }
    }
}

impl From<CustodyError> for crate::AppError {
    /// Custody failures surface as key errors (the key ring could not do its job); the code
    /// stays in the message for the log.
    fn from(e: CustodyError) -> Self {
        crate::AppError::Keys(crate::keys::KeyError::Key(format!("{}: {e}", e.code())))
    }
}

fn random<const N: usize>() -> Result<[u8; N], CustodyError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|_| CustodyError::Randomness)?;
    Ok(b)
}

fn wrap_aad(master_key_id: &str, aad: &str) -> Vec<u8> {
    format!("querywarden-custody-wrap:v1:{master_key_id}:{aad}").into_bytes()
}

fn data_aad(aad: &str) -> Vec<u8> {
    format!("querywarden-custody-data:v1:{aad}").into_bytes()
}

/// Seals `plaintext` under a fresh data key wrapped by the current master key. `aad` names
/// what the data is (it must be given again to open it).
pub fn seal(keys: &KeyRing, plaintext: &[u8], aad: &str) -> Result<SealedBlob, CustodyError> {
    let (master_id, master) = keys.custody_current().ok_or(CustodyError::NoMasterKey)?;
    let data_key: [u8; 32] = random()?;
    let nonce: [u8; 12] = random()?;
    let wrap_nonce: [u8; 12] = random()?;
    let sealed = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &data_aad(aad),
            },
        )
        .map_err(|_| CustodyError::Seal)?;
    let wrapped_key = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master))
        .encrypt(
            Nonce::from_slice(&wrap_nonce),
            Payload {
                msg: &data_key,
                aad: &wrap_aad(master_id, aad),
            },
        )
        .map_err(|_| CustodyError::Seal)?;
    Ok(SealedBlob {
        sealed,
        nonce: nonce.to_vec(),
        wrapped_key,
        wrap_nonce: wrap_nonce.to_vec(),
        master_key_id: master_id.to_string(),
    })
}

/// Opens a blob sealed by [`seal`] with the same `aad`.
pub fn open(keys: &KeyRing, blob: &SealedBlob, aad: &str) -> Result<Vec<u8>, CustodyError> {
    if blob.nonce.len() != 12 || blob.wrap_nonce.len() != 12 {
        return Err(CustodyError::Open);
    }
    let master = keys
        .custody_key(&blob.master_key_id)
        .ok_or_else(|| CustodyError::UnknownMasterKey(blob.master_key_id.clone()))?;
    let data_key = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master))
        .decrypt(
            Nonce::from_slice(&blob.wrap_nonce),
            Payload {
                msg: &blob.wrapped_key,
                aad: &wrap_aad(&blob.master_key_id, aad),
            },
        )
        .map_err(|_| CustodyError::Open)?;
    if data_key.len() != 32 {
        return Err(CustodyError::Open);
    }
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key))
        .decrypt(
            Nonce::from_slice(&blob.nonce),
            Payload {
                msg: &blob.sealed,
                aad: &data_aad(aad),
            },
        )
        .map_err(|_| CustodyError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(dir: &std::path::Path, s: i64) -> KeyRing {
        KeyRing::open_or_create(
            dir,
            jiff::Timestamp::from_second(1_764_000_000 + s).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_bound_to_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ring(&dir.path().join("k"), 0);
        let blob = seal(&keys, "王小明 A123456789".as_bytes(), "subject:115-000001").unwrap();
        assert!(!blob.sealed.windows(10).any(|w| w == b"A123456789"));
        assert_eq!(
            open(&keys, &blob, "subject:115-000001").unwrap(),
            "王小明 A123456789".as_bytes()
        );
        assert_eq!(
            open(&keys, &blob, "subject:115-000002"),
            Err(CustodyError::Open)
        );
        let mut tampered = blob.clone();
        tampered.sealed[0] ^= 1;
        assert_eq!(
            open(&keys, &tampered, "subject:115-000001"),
            Err(CustodyError::Open)
        );
        // Two seals of the same text differ (fresh key and nonce).
        let again = seal(&keys, "王小明 A123456789".as_bytes(), "subject:115-000001").unwrap();
        assert_ne!(again.sealed, blob.sealed);
    }

    #[test]
    fn rotation_keeps_old_master_keys_for_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let keys = ring(&path, 0);
        let blob = seal(&keys, b"x", "a").unwrap();
        let rotated =
            KeyRing::rotate(&path, jiff::Timestamp::from_second(1_764_000_100).unwrap()).unwrap();
        let new_blob = seal(&rotated, b"y", "a").unwrap();
        assert_ne!(new_blob.master_key_id, blob.master_key_id);
        assert_eq!(open(&rotated, &blob, "a").unwrap(), b"x");
        // Another key ring cannot open it.
        let other = ring(&dir.path().join("other"), 0);
        assert!(open(&other, &blob, "a").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for e in std::fs::read_dir(&path).unwrap() {
                let p = e.unwrap().path();
                if p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("custody-")
                {
                    let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                    assert_eq!(mode & 0o777, 0o600);
                }
            }
        }
    }
}
