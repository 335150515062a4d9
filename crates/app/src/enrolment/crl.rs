//! Certificate revocation lists (憑證廢止清冊, §3): fetched from the configured addresses on a
//! schedule (MOICA publishes them over HTTP), imported from a file as the offline path, kept
//! in the database, and put in force for sign-in at once. `/readyz` and the administrator's
//! page show each list's age and next update; under `require_crl` a list past its next
//! update refuses sign-in (`pki.crl_stale`, in the pki crate's chain check).
//!
//! Security-sensitive: a list is stored only if one of the trust anchors signed it, so a
//! list fetched over plain HTTP cannot be forged, and an older list never replaces a newer.

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_pki::{RevocationList, TrustAnchors};
use querywarden_storage::{Store, StoredCrl};

use crate::auth::{AuthContext, AuthFailure};
use crate::config::Config;
use crate::{App, AppError};

/// One list in force, as the administrator's page and `/readyz` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlStatus {
    pub issuer: String,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub age_seconds: i64,
    /// Past its next update: sign-in with this issuer's cards is refused.
    pub stale: bool,
    pub revoked: usize,
}

/// The lists in force now, newest first per issuer.
pub fn status(ctx: &AuthContext, now: Timestamp) -> Vec<CrlStatus> {
    let mut out: Vec<CrlStatus> = ctx
        .crls()
        .iter()
        .map(|c| CrlStatus {
            issuer: c.issuer_dn(),
            this_update: c.this_update(),
            next_update: c.next_update(),
            age_seconds: now.duration_since(c.this_update()).as_secs(),
            stale: c.next_update().is_none_or(|n| n < now),
            revoked: c.revoked_count(),
        })
        .collect();
    out.sort_by(|a, b| {
        a.issuer
            .cmp(&b.issuer)
            .then(b.this_update.cmp(&a.this_update))
    });
    out
}

/// The configured files (`auth.crl_files`, read again each time) plus the lists kept in
/// the database. A file or row that no longer parses is skipped and logged, never fatal:
/// the check at sign-in decides what a missing list means.
pub async fn load_set(config: &Config, store: &Store) -> Result<Vec<RevocationList>, AppError> {
    let mut out = Vec::new();
    for f in &config.auth.crl_files {
        match std::fs::read(f).map(|b| RevocationList::from_der_or_pem(&b)) {
            Ok(Ok(c)) => out.push(c),
            Ok(Err(e)) => {
                tracing::error!(file = %f.display(), code = e.code(), "CRL file unusable")
            }
            Err(e) => tracing::error!(file = %f.display(), error = %e, "CRL file unreadable"),
        }
    }
    for row in store.revocation_lists().await? {
        match RevocationList::from_der_or_pem(&row.der) {
            Ok(c) => out.push(c),
            Err(e) => {
                tracing::error!(issuer = %row.issuer_dn, code = e.code(), "stored CRL unusable")
            }
        }
    }
    Ok(out)
}

/// Reloads the set in force from the files and the database.
pub async fn reload(app: &App) -> Result<usize, AppError> {
    let Some(ctx) = app.auth() else {
        return Ok(0);
    };
    let set = load_set(app.config(), app.store()).await?;
    let n = set.len();
    ctx.replace_crls(set);
    Ok(n)
}

/// A list accepted into the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub issuer: String,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub revoked: usize,
    /// False when a list at least as new was already kept (nothing changed).
    pub replaced: bool,
}

/// Checks and keeps one CRL (`source`: its URL, or `file`). The inner `Err` is a refusal
/// (audited): not a CRL, a kind we cannot apply, or not signed by a trust anchor.
pub async fn import(
    store: &Store,
    anchors: &TrustAnchors,
    bytes: &[u8],
    source: &str,
    by: Option<Actor>,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<Imported, AuthFailure>, AppError> {
    let mut event = AuditEvent::system(now, AuditAction::CrlLoaded, request_id)
        .on("crl", source.chars().take(200).collect::<String>());
    event.actor = by;
    let checked = RevocationList::from_der_or_pem(bytes).and_then(|c| {
        anchors.verify_crl(&c)?;
        Ok(c)
    });
    let crl = match checked {
        Ok(c) => c,
        Err(e) => {
            crate::audit::record_refusal(store, event, e.code()).await?;
            return Ok(Err(e.into()));
        }
    };
    let row = StoredCrl {
        issuer_dn: crl.issuer_dn(),
        issuer_key_id: crl.issuer_key_id().unwrap_or_default(),
        source: source.chars().take(500).collect(),
        this_update: crl.this_update(),
        next_update: crl.next_update(),
        revoked_count: crl.revoked_count() as u64,
        // As given (DER or PEM): `load_set` reads either.
        der: bytes.to_vec(),
        loaded_at: now,
    };
    let mut tx = store.begin().await?;
    let replaced = tx.upsert_revocation_list(&row).await?;
    tx.append_audit(
        &event
            .detail("issuer", row.issuer_dn.as_str())
            .detail("this_update", row.this_update.to_string())
            .detail(
                "next_update",
                row.next_update.map(|t| t.to_string()).unwrap_or_default(),
            )
            .detail("revoked", row.revoked_count)
            .detail("replaced", replaced),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Imported {
        issuer: row.issuer_dn,
        this_update: row.this_update,
        next_update: row.next_update,
        revoked: crl.revoked_count(),
        replaced,
    }))
}

/// Most bytes a CRL download may have (MOICA's full lists are a few MB).
const MAX_CRL_BYTES: usize = 64 * 1024 * 1024;

async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut r = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("fetch: {}", e.without_url()))?;
    if !r.status().is_success() {
        return Err(format!("HTTP {}", r.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| format!("read: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > MAX_CRL_BYTES {
            return Err("too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Fetches every configured address once, keeps what is new, records each attempt, and puts
/// the result in force. Returns how many lists were replaced; a failing address is recorded
/// (and audited) and the others still run.
pub async fn refresh(app: &App, now: Timestamp, request_id: &str) -> Result<usize, AppError> {
    let Some(ctx) = app.auth() else {
        return Ok(0);
    };
    let urls = &app.config().crl.urls;
    let mut replaced = 0;
    if !urls.is_empty() {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(
                app.config().crl.fetch_timeout_seconds,
            ))
            .build()
            .map_err(AppError::HttpClient)?;
        for url in urls {
            let outcome = match download(&client, url).await {
                Ok(bytes) => {
                    match import(
                        app.store(),
                        &ctx.anchors,
                        &bytes,
                        url,
                        None,
                        now,
                        request_id,
                    )
                    .await?
                    {
                        Ok(i) => {
                            replaced += usize::from(i.replaced);
                            None
                        }
                        Err(f) => Some(f.code),
                    }
                }
                Err(e) => {
                    let mut tx = app.store().begin().await?;
                    tx.append_audit(
                        &AuditEvent::system(now, AuditAction::CrlLoaded, request_id)
                            .on("crl", url.as_str())
                            .outcome(Outcome::Failed("crl.fetch_failed".into())),
                    )
                    .await?;
                    tx.commit().await?;
                    Some(e)
                }
            };
            let mut tx = app.store().begin().await?;
            tx.record_crl_fetch(url, now, outcome.as_deref()).await?;
            tx.commit().await?;
            if let Some(e) = outcome {
                tracing::warn!(url = %url, error = %e, "CRL refresh failed");
            }
        }
    }
    reload(app).await?;
    Ok(replaced)
}
