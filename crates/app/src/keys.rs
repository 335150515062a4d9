//! Key material held apart from the database: the Ed25519 key that signs audit checkpoints
//! and the HMAC key under which data subjects appear in the audit trail.
//!
//! Security-sensitive. Keys are created on first start with mode 0600 in the key directory
//! (`<data_dir>/keys` unless configured elsewhere). `keyring.json` lists every key with its
//! id; rotation makes a new current key, keeps the old signing key's *public* half for
//! verification (its secret is deleted: a retired key must not sign again) and keeps old HMAC
//! keys so that searches over old records still work.
//!
//! Also the custody master keys (`custody-<id>.key`) that wrap the data keys of sealed
//! subjects and results (§6, see `custody`). Rotation adds a new current master key and keeps
//! the old ones, which are still needed to unwrap data sealed before.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::SubjectDigest;
use querywarden_ledger::checkpoint::{NoteSigner, NoteVerifier};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("金鑰目錄無法存取 / key directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("金鑰清單損毀 / keyring.json is damaged: {0}")]
    Manifest(String),
    #[error("金鑰檔權限過寬（應為 0600）/ key file {0} is readable by others")]
    Permissions(String),
    #[error("金鑰錯誤 / key error: {0}")]
    Key(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum KeyStatus {
    Current,
    Retired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SigningEntry {
    name: String,
    vkey: String,
    status: KeyStatus,
    created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HmacEntry {
    id: String,
    status: KeyStatus,
    created_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Manifest {
    audit_signing: Vec<SigningEntry>,
    subject_hmac: Vec<HmacEntry>,
    /// Custody master keys; absent in key rings made before custody existed (one is added).
    #[serde(default)]
    custody: Vec<HmacEntry>,
}

struct HmacKey {
    id: String,
    secret: [u8; 32],
}

/// The loaded keys.
pub struct KeyRing {
    dir: PathBuf,
    signer: NoteSigner,
    verifiers: Vec<NoteVerifier>,
    hmac_current: HmacKey,
    hmac_all: Vec<HmacKey>,
    /// Custody master keys: (id, secret), the current one first.
    custody: Vec<HmacKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("dir", &self.dir)
            .field("signing_key", &self.signer.verifier().to_vkey())
            .field("hmac_key_id", &self.hmac_current.id)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn random32() -> Result<[u8; 32], KeyError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| KeyError::Key(e.to_string()))?;
    Ok(b)
}

/// Writes a secret file readable by the owner only; the file must not exist yet.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(hex::encode(bytes).as_bytes())
        .map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn read_secret(path: &Path) -> Result<[u8; 32], KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map_err(io(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions(path.display().to_string()));
        }
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    let bytes = hex::decode(text.trim()).map_err(|e| KeyError::Key(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Key(format!("{} is not a 32-byte key", path.display())))
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), KeyError> {
    let path = dir.join("keyring.json");
    let tmp = dir.join("keyring.json.tmp");
    let text = serde_json::to_string_pretty(m).map_err(|e| KeyError::Manifest(e.to_string()))?;
    fs::write(&tmp, text).map_err(io(&tmp))?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))
}

fn key_suffix(now: jiff::Timestamp) -> String {
    now.strftime("%Y%m%dT%H%M%S").to_string()
}

impl KeyRing {
    /// Loads the key ring from `dir`, creating the directory and first keys if absent.
    pub fn open_or_create(dir: &Path, now: jiff::Timestamp) -> Result<KeyRing, KeyError> {
        let manifest_path = dir.join("keyring.json");
        if !manifest_path.exists() {
            fs::create_dir_all(dir).map_err(io(dir))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
            }
            let mut m = Manifest::default();
            Self::add_signing_key(dir, &mut m, now)?;
            Self::add_hmac_key(dir, &mut m, now)?;
            Self::add_custody_key(dir, &mut m, now)?;
            write_manifest(dir, &m)?;
        } else {
            let mut m = Self::read_manifest(dir)?;
            if m.custody.is_empty() {
                Self::add_custody_key(dir, &mut m, now)?;
                write_manifest(dir, &m)?;
            }
        }
        Self::load(dir)
    }

    /// Loads an existing key ring; never creates one.
    pub fn open_existing(dir: &Path) -> Result<KeyRing, KeyError> {
        Self::load(dir)
    }

    fn add_signing_key(dir: &Path, m: &mut Manifest, now: jiff::Timestamp) -> Result<(), KeyError> {
        let name = format!("querywarden-audit-{}", key_suffix(now));
        if m.audit_signing.iter().any(|e| e.name == name) {
            return Err(KeyError::Key(
                "a key was already created this second".into(),
            ));
        }
        let secret = random32()?;
        let signer =
            NoteSigner::from_bytes(&name, &secret).map_err(|e| KeyError::Key(e.to_string()))?;
        write_secret(&dir.join(format!("{name}.ed25519")), &secret)?;
        for e in &mut m.audit_signing {
            e.status = KeyStatus::Retired;
        }
        m.audit_signing.push(SigningEntry {
            name,
            vkey: signer.verifier().to_vkey(),
            status: KeyStatus::Current,
            created_at: now.to_string(),
        });
        Ok(())
    }

    fn add_hmac_key(dir: &Path, m: &mut Manifest, now: jiff::Timestamp) -> Result<(), KeyError> {
        Self::add_secret_key(
            dir,
            &mut m.subject_hmac,
            'h',
            |id| format!("{id}.hmac"),
            now,
        )
    }

    fn add_custody_key(dir: &Path, m: &mut Manifest, now: jiff::Timestamp) -> Result<(), KeyError> {
        Self::add_secret_key(
            dir,
            &mut m.custody,
            'c',
            |id| format!("custody-{id}.key"),
            now,
        )
    }

    /// A new 32-byte secret with id `{prefix}{suffix}`, written to `file(id)`; the earlier keys
    /// of its list are retired (kept to read what they hashed or sealed).
    fn add_secret_key(
        dir: &Path,
        entries: &mut Vec<HmacEntry>,
        prefix: char,
        file: impl Fn(&str) -> String,
        now: jiff::Timestamp,
    ) -> Result<(), KeyError> {
        let id = format!("{prefix}{}", key_suffix(now));
        if entries.iter().any(|e| e.id == id) {
            return Err(KeyError::Key(
                "a key was already created this second".into(),
            ));
        }
        write_secret(&dir.join(file(&id)), &random32()?)?;
        for e in entries.iter_mut() {
            e.status = KeyStatus::Retired;
        }
        entries.push(HmacEntry {
            id,
            status: KeyStatus::Current,
            created_at: now.to_string(),
        });
        Ok(())
    }

    fn read_manifest(dir: &Path) -> Result<Manifest, KeyError> {
        let path = dir.join("keyring.json");
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        serde_json::from_str(&text).map_err(|e| KeyError::Manifest(e.to_string()))
    }

    fn load(dir: &Path) -> Result<KeyRing, KeyError> {
        let m = Self::read_manifest(dir)?;
        let current = m
            .audit_signing
            .iter()
            .find(|e| e.status == KeyStatus::Current)
            .ok_or_else(|| KeyError::Manifest("no current audit signing key".into()))?;
        let secret = read_secret(&dir.join(format!("{}.ed25519", current.name)))?;
        let signer = NoteSigner::from_bytes(&current.name, &secret)
            .map_err(|e| KeyError::Key(e.to_string()))?;
        if signer.verifier().to_vkey() != current.vkey {
            return Err(KeyError::Manifest(format!(
                "the secret of {} does not match its public key",
                current.name
            )));
        }
        let verifiers = m
            .audit_signing
            .iter()
            .map(|e| NoteVerifier::from_vkey(&e.vkey).map_err(|e| KeyError::Key(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut hmac_all = Vec::new();
        let mut hmac_current = None;
        for e in &m.subject_hmac {
            let secret = read_secret(&dir.join(format!("{}.hmac", e.id)))?;
            if e.status == KeyStatus::Current {
                hmac_current = Some(HmacKey {
                    id: e.id.clone(),
                    secret,
                });
            }
            hmac_all.push(HmacKey {
                id: e.id.clone(),
                secret,
            });
        }
        let hmac_current =
            hmac_current.ok_or_else(|| KeyError::Manifest("no current subject HMAC key".into()))?;
        let mut custody = Vec::new();
        for e in &m.custody {
            let secret = read_secret(&dir.join(format!("custody-{}.key", e.id)))?;
            let key = HmacKey {
                id: e.id.clone(),
                secret,
            };
            if e.status == KeyStatus::Current {
                custody.insert(0, key);
            } else {
                custody.push(key);
            }
        }
        Ok(KeyRing {
            dir: dir.to_path_buf(),
            signer,
            verifiers,
            hmac_current,
            hmac_all,
            custody,
        })
    }

    /// `querywarden keys rotate`: new signing and HMAC keys become current. The retired
    /// signing key's secret is removed; its public key stays for verification.
    pub fn rotate(dir: &Path, now: jiff::Timestamp) -> Result<KeyRing, KeyError> {
        let mut m = Self::read_manifest(dir)?;
        let retired: Vec<String> = m
            .audit_signing
            .iter()
            .filter(|e| e.status == KeyStatus::Current)
            .map(|e| e.name.clone())
            .collect();
        Self::add_signing_key(dir, &mut m, now)?;
        Self::add_hmac_key(dir, &mut m, now)?;
        Self::add_custody_key(dir, &mut m, now)?;
        write_manifest(dir, &m)?;
        for name in retired {
            let path = dir.join(format!("{name}.ed25519"));
            fs::remove_file(&path).map_err(io(&path))?;
        }
        Self::load(dir)
    }

    pub fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    /// Public keys of every signing key ever used, current first-or-not.
    pub fn verifiers(&self) -> &[NoteVerifier] {
        &self.verifiers
    }

    /// The id of the current HMAC key (what new digests are made under).
    pub fn current_hmac_key_id(&self) -> &str {
        &self.hmac_current.id
    }

    /// The subject as the audit trail records it, under the current key.
    pub fn subject_digest(&self, id: &NationalId) -> SubjectDigest {
        digest(&self.hmac_current, id)
    }

    /// The current custody master key (id, secret), for wrapping new data keys. `None` only
    /// for a key ring opened read-only from before custody existed.
    pub(crate) fn custody_current(&self) -> Option<(&str, &[u8; 32])> {
        self.custody.first().map(|k| (k.id.as_str(), &k.secret))
    }

    /// The custody master key `id` (current or retired), for unwrapping.
    pub(crate) fn custody_key(&self, id: &str) -> Option<&[u8; 32]> {
        self.custody.iter().find(|k| k.id == id).map(|k| &k.secret)
    }

    /// The subject's digest under the HMAC key `key_id` (current or retired), to compare with
    /// a digest recorded under that key.
    pub fn subject_digest_under(&self, id: &NationalId, key_id: &str) -> Option<SubjectDigest> {
        self.hmac_all
            .iter()
            .find(|k| k.id == key_id)
            .map(|k| digest(k, id))
    }

    /// The subject under every key ever used, for searching records of any age.
    pub fn subject_digests_all(&self, id: &NationalId) -> Vec<SubjectDigest> {
        self.hmac_all.iter().map(|k| digest(k, id)).collect()
    }
}

fn digest(key: &HmacKey, id: &NationalId) -> SubjectDigest {
    // HMAC accepts keys of any length, so this cannot fail for a 32-byte key; fall back to
    // an empty digest rather than panic if the crate ever changes that.
    let hex = match <Hmac<Sha256> as Mac>::new_from_slice(&key.secret) {
        Ok(mut mac) => {
            mac.update(id.expose_whole().as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    SubjectDigest {
        key_id: key.id.clone(),
        hex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_764_000_000 + s).unwrap()
    }

    #[test]
    fn first_start_creates_private_keys_and_reopens_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let a = KeyRing::open_or_create(&keys, t(0)).unwrap();
        let b = KeyRing::open_or_create(&keys, t(5)).unwrap();
        assert_eq!(
            a.signer().verifier().to_vkey(),
            b.signer().verifier().to_vkey()
        );
        let id = NationalId::parse("A123456789").unwrap();
        assert_eq!(a.subject_digest(&id), b.subject_digest(&id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for entry in fs::read_dir(&keys).unwrap() {
                let p = entry.unwrap().path();
                if p.extension().is_some_and(|e| e == "ed25519" || e == "hmac") {
                    assert_eq!(
                        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                        0o600
                    );
                }
            }
        }
    }

    #[test]
    fn the_digest_depends_on_the_key_and_is_not_the_plain_hash() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeyRing::open_or_create(&dir.path().join("a"), t(0)).unwrap();
        let b = KeyRing::open_or_create(&dir.path().join("b"), t(0)).unwrap();
        let id = NationalId::parse("A123456789").unwrap();
        assert_ne!(a.subject_digest(&id).hex, b.subject_digest(&id).hex);
        assert_eq!(a.subject_digest(&id).hex.len(), 64);
    }

    #[test]
    fn rotation_keeps_old_public_keys_and_hmac_keys_but_not_old_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let a = KeyRing::open_or_create(&keys, t(0)).unwrap();
        let old_name = a.signer().verifier().to_vkey();
        let b = KeyRing::rotate(&keys, t(10)).unwrap();
        assert_ne!(b.signer().verifier().to_vkey(), old_name);
        assert_eq!(b.verifiers().len(), 2);
        let id = NationalId::parse("A123456789").unwrap();
        let all = b.subject_digests_all(&id);
        assert_eq!(all.len(), 2);
        assert!(all.contains(&a.subject_digest(&id)));
        let secrets = fs::read_dir(&keys)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "ed25519")
            })
            .count();
        assert_eq!(secrets, 1);
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        KeyRing::open_or_create(&keys, t(0)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let hmac = fs::read_dir(&keys)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == "hmac"))
                .unwrap();
            fs::set_permissions(&hmac, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                KeyRing::open_or_create(&keys, t(1)),
                Err(KeyError::Permissions(_))
            ));
        }
    }
}
