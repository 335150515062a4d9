//! Optional self-service (個人資料保護法 §10; off by default, its own listener): a citizen
//! signs a one-time challenge with their own MOICA card, types their national ID, and sees
//! their report — the same entries, withholding and proofs as the contact officer's, without
//! the withheld count.
//!
//! Security-sensitive. Identity rests on three checks, in order: the challenge was issued by
//! this server to this browser's flow, is unexpired and is spent on first use (storage's
//! login nonces); the card's signature over it verifies and the card chains to the MOICA
//! anchors, unrevoked (`crates/pki`, as staff sign-in); the card's last four ID digits equal
//! the typed ID's (all a MOICA card carries). Attempts are limited per client address before
//! any of that work. Every attempt — shown or refused — is audited with the address and,
//! once the ID parses, its digest. Trade-offs: docs/citizen-self-service.md.

use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::{SignedDuration, Timestamp};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{AuditAction, AuditEvent, Outcome};
use querywarden_domain::citizen_report::{CitizenReportError, StaffShown, card_is_subjects};
use querywarden_domain::rate_limit::{Admission, RateCounter, RateLimit};
use querywarden_domain::roc_date::taipei_date;
use querywarden_pki::SignatureFormat;
use querywarden_storage::{NonceCheck, Store};

use super::{CitizenReport, Refusal, gather};
use crate::AppError;
use crate::auth::{AuthContext, digest};
use crate::config::RawAudit;
use crate::keys::KeyRing;

/// Attempts per client address and hour (shown or refused).
#[derive(Debug)]
pub struct SelfServiceLimiter {
    limit: RateLimit,
    counter: Mutex<RateCounter>,
}

impl SelfServiceLimiter {
    pub fn per_hour(max: u32) -> Self {
        Self {
            limit: RateLimit {
                max,
                window: SignedDuration::from_hours(1),
            },
            counter: Mutex::new(RateCounter::default()),
        }
    }

    fn admit(&self, key: &str, now: Timestamp) -> bool {
        match self.counter.lock() {
            Ok(mut c) => matches!(c.admit(key, self.limit, now), Admission::Admitted),
            // A poisoned lock must not open the gate.
            Err(_) => false,
        }
    }
}

/// What the self-service form posts.
#[derive(Debug, Clone, Default)]
pub struct SelfServiceInput {
    pub national_id: String,
    /// The challenge the page was given, exactly as signed.
    pub nonce: String,
    /// CMS/PKCS#7 SignedData over the challenge: base64 DER or PEM.
    pub signature: String,
    /// The browser's flow cookie the challenge was issued to.
    pub flow_token: String,
    pub client_addr: Option<String>,
}

/// The citizen's own report, or why not. Audited either way.
#[allow(clippy::too_many_arguments)]
pub async fn report(
    store: &Store,
    keys: &KeyRing,
    auth: Option<&AuthContext>,
    audit_policy: &RawAudit,
    limiter: &SelfServiceLimiter,
    input: &SelfServiceInput,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<CitizenReport, Refusal>, AppError> {
    let mut ev = AuditEvent::system(now, AuditAction::CitizenSelfServiceReport, request_id)
        .on("citizen", "self-service");
    ev.client_addr = input.client_addr.clone();
    let addr = input.client_addr.clone().unwrap_or_default();
    let mut fingerprint = None;
    let decided = decide(
        store,
        keys,
        auth,
        limiter,
        input,
        &addr,
        now,
        &mut ev,
        &mut fingerprint,
    )
    .await?;
    if let Some(fp) = fingerprint {
        // The card's fingerprint identifies the card, not the person's data.
        ev = ev.detail("certificate", fp);
    }
    let outcome = match decided {
        Ok(id) => {
            let (entries, withheld, appendix) =
                gather(store, keys, audit_policy, &id, StaffShown::UnitOnly, now).await?;
            ev = ev
                .detail("entries", entries.len())
                .detail("withheld", withheld)
                .detail("tree_size", appendix.tree_size);
            let today = taipei_date(now);
            Ok(CitizenReport {
                request_no: "self-service".into(),
                produced_on: today,
                due_on: today,
                entries,
                withheld,
                appendix,
                subject_masked: id.masked(),
            })
        }
        Err(r) => {
            ev = ev.outcome(Outcome::Refused(r.code().to_string()));
            Err(r)
        }
    };
    crate::audit::record(store, &ev).await?;
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
async fn decide(
    store: &Store,
    keys: &KeyRing,
    auth: Option<&AuthContext>,
    limiter: &SelfServiceLimiter,
    input: &SelfServiceInput,
    addr: &str,
    now: Timestamp,
    ev: &mut AuditEvent,
    fingerprint: &mut Option<String>,
) -> Result<Result<NationalId, Refusal>, AppError> {
    if !limiter.admit(addr, now) {
        return Ok(Err(Refusal::RateLimited));
    }
    let id = match NationalId::parse(&input.national_id) {
        Ok(id) => id,
        Err(e) => return Ok(Err(Refusal::NationalId(e))),
    };
    ev.subject = Some(keys.subject_digest(&id));
    let Some(ctx) = auth else {
        return Ok(Err(CitizenReportError::SignatureInvalid.into()));
    };
    if input.nonce.is_empty() || input.flow_token.is_empty() {
        return Ok(Err(Refusal::Challenge));
    }
    let mut tx = store.begin().await?;
    let check = tx
        .consume_nonce(&digest(&input.nonce), &digest(&input.flow_token), now)
        .await?;
    tx.commit().await?;
    if check != NonceCheck::Fresh {
        return Ok(Err(Refusal::Challenge));
    }
    let sig = input.signature.trim();
    let bytes = if sig.starts_with("-----BEGIN") {
        sig.as_bytes().to_vec()
    } else {
        let compact: String = sig.split_whitespace().collect();
        match B64.decode(compact) {
            Ok(b) => b,
            Err(_) => return Ok(Err(CitizenReportError::SignatureInvalid.into())),
        }
    };
    let nonce = input.nonce.as_bytes();
    let cert = match ctx.verify_signature(nonce, &bytes, SignatureFormat::Pkcs7, None, now) {
        Ok(c) => c,
        Err(_) => return Ok(Err(CitizenReportError::SignatureInvalid.into())),
    };
    *fingerprint = Some(cert.fingerprint_sha256[..16].to_string());
    if let Err(e) = card_is_subjects(&id, cert.id_last4.as_deref()) {
        return Ok(Err(e.into()));
    }
    Ok(Ok(id))
}
