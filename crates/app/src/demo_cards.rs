//! DEMO only (compiled with the `demo` feature): a test certificate authority and a card
//! (certificate + key) for every demo person, kept in `<data_dir>/demo-ca/`, so that a
//! newcomer can sign in from a plain browser. Nothing here is used with a production
//! configuration: the web layer's demo signer refuses to run unless `server.demo` is set,
//! and `server.demo` is only accepted on a loopback address.
//!
//! Security-sensitive in the sense that it must never leak into production; the keys it
//! makes protect nothing real.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::org::Account;
use querywarden_pki::demo_ca::{CardProfile, DemoCa, DemoCard, DemoKey};
use querywarden_storage::Store;

pub use crate::binding::binding_of;
use crate::demo::DEMO_ACCOUNTS;
use crate::{AppError, auth};

/// The password of every demo account (meets the password policy).
pub const DEMO_PASSWORD: &str = "demo-password-115";

/// Where `ensure_demo_ca` put the trust material.
#[derive(Debug, Clone)]
pub struct DemoTrust {
    pub anchors: PathBuf,
    pub crl: PathBuf,
}

fn err(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Seed {
        what: format!("demo CA {what}: {e}"),
        source: None,
    }
}

/// The last four digits of the invented national ID of demo person `index`.
pub fn demo_last4(index: usize) -> String {
    format!("{:04}", (1234 + index * 1111) % 10_000)
}

fn write_private(path: &Path, text: &str) -> Result<(), AppError> {
    fs::write(path, text).map_err(|e| err("write", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| err("chmod", e))?;
    }
    Ok(())
}

fn card_path(data_dir: &Path, account: &Account) -> PathBuf {
    data_dir
        .join("demo-ca")
        .join("cards")
        .join(format!("{}.pem", account.as_str()))
}

/// Makes `n` fresh RSA keys for the demo CA and cards, spread over the machine's cores: key
/// generation is nearly all of a first start's time, and the keys are independent, so making
/// them side by side is the one saving that leaves every key as strong as before (the
/// verifier accepts the same RSA-2048 certificates a real MOICA card carries).
fn generate_keys(n: usize) -> Result<Vec<DemoKey>, AppError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, n.max(1));
    let made: Vec<Result<Vec<DemoKey>, String>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                // Worker t makes keys t, t + threads, t + 2·threads, …
                let share = (n + threads - 1 - t) / threads;
                s.spawn(move || {
                    (0..share)
                        .map(|_| DemoKey::generate().map_err(|e| e.to_string()))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("key thread stopped".into()))
            })
            .collect()
    });
    let mut keys = Vec::with_capacity(n);
    for batch in made {
        keys.extend(batch.map_err(|e| err("generate", e))?);
    }
    Ok(keys)
}

/// Creates (first run) or reuses the demo CA and cards; writes a fresh CRL each start so it
/// never goes stale.
pub fn ensure_demo_ca(data_dir: &Path, now: Timestamp) -> Result<DemoTrust, AppError> {
    let dir = data_dir.join("demo-ca");
    fs::create_dir_all(dir.join("cards")).map_err(|e| err("directory", e))?;
    let ca_path = dir.join("ca.pem");
    let mut missing = Vec::new();
    for (i, a) in DEMO_ACCOUNTS.iter().enumerate() {
        let account = Account::parse(a.account).map_err(|e| err("account", e))?;
        let path = card_path(data_dir, &account);
        if !path.exists() {
            missing.push((i, a, path));
        }
    }
    let new_ca = !ca_path.exists();
    // Every key this start needs, made at once: the CA's two first, then one per card.
    let mut keys = generate_keys(missing.len() + if new_ca { 2 } else { 0 })?.into_iter();
    let mut next_key = || keys.next().ok_or_else(|| err("generate", "too few keys"));
    let ca = if new_ca {
        let ca =
            DemoCa::from_keys(next_key()?, next_key()?, now).map_err(|e| err("generate", e))?;
        write_private(&ca_path, &ca.to_pem_bundle().map_err(|e| err("encode", e))?)?;
        ca
    } else {
        let text = fs::read_to_string(&ca_path).map_err(|e| err("read", e))?;
        DemoCa::from_pem_bundle(&text).map_err(|e| err("parse", e))?
    };
    for (i, a, path) in missing {
        let card = ca
            .issue_citizen_with(
                next_key()?,
                a.name,
                &demo_last4(i),
                now,
                CardProfile::default(),
            )
            .map_err(|e| err("issue", e))?;
        write_private(&path, &card.to_pem_bundle().map_err(|e| err("encode", e))?)?;
    }
    let anchors = dir.join("anchors.pem");
    fs::write(&anchors, ca.anchors_pem()).map_err(|e| err("write", e))?;
    let crl = dir.join("crl.der");
    fs::write(&crl, ca.crl(&[], now).map_err(|e| err("crl", e))?).map_err(|e| err("write", e))?;
    Ok(DemoTrust { anchors, crl })
}

/// The demo card of `account`, if there is one.
pub fn load_card(data_dir: &Path, account: &str) -> Result<Option<DemoCard>, AppError> {
    // Parsing the account first keeps the file name to `[a-z0-9._-]`: no path tricks.
    let Ok(account) = Account::parse(account) else {
        return Ok(None);
    };
    let path = card_path(data_dir, &account);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|e| err("read", e))?;
    DemoCard::from_pem_bundle(&text)
        .map(Some)
        .map_err(|e| err("parse", e))
}

/// Binds each demo person's card, records their last four ID digits and sets the demo
/// password — once; later starts change nothing.
pub async fn set_up_demo_sign_in(
    store: &Store,
    data_dir: &Path,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    for (i, a) in DEMO_ACCOUNTS.iter().enumerate() {
        let account = Account::parse(a.account).map_err(|e| err("account", e))?;
        let Some(person) = store.person_by_account(&account).await? else {
            continue;
        };
        if store.binding_of(person.id).await?.is_some() {
            continue;
        }
        let Some(card) = load_card(data_dir, a.account)? else {
            continue;
        };
        let cert = card.citizen().map_err(|e| err("certificate", e))?;
        let hash = auth::hash_password(DEMO_PASSWORD)?;
        let mut tx = store.begin().await?;
        tx.set_person_id_last4(person.id, &demo_last4(i)).await?;
        tx.bind_certificate(person.id, &binding_of(&cert), None, now)
            .await?;
        tx.set_password(person.id, &hash, false, now).await?;
        tx.append_audit(
            &AuditEvent::system(now, AuditAction::CertificateBound, request_id)
                .on("account", a.account)
                .detail("certificate", &cert.fingerprint_sha256[..16])
                .detail("demo", true),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}
