//! Enrolment and reset codes (§3): the administrator issues a person a one-time code (shown
//! once, handed over in person or in a sealed letter); the person enters it, signs the
//! sign-in challenge with their own card and sets their own password. A reset code works
//! the same way and, on use, ends the person's sessions and old password and re-binds the
//! card — so nobody but the person ever knows their password.
//!
//! Security-sensitive. The code is looked up by its SHA-256 only; it is marked used by a
//! conditional update inside the transaction that binds the card and sets the password, so
//! it works exactly once. Every attempt is audited; failures count towards a per-address
//! rate limit.

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::auth::{PasswordRejection, check_password_policy};
use querywarden_domain::enrolment::{
    CodePurpose, EnrolmentCode, EnrolmentRefusal, card_matches_record, may_enrol,
};
use querywarden_domain::org::{Account, Person, Role};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_pki::{CitizenCertificate, SignatureFormat};
use querywarden_storage::{EnrolmentCodeRow, NewEnrolmentCode, Store};

use super::{CodeSettings, code_digest, new_code};
use crate::AppError;
use crate::auth::{
    AuthContext, AuthFailure, CardSignature, card_owner, card_proof, hash_password, verify_password,
};
use crate::binding::binding_of;

/// A code just issued: shown once to the administrator, never stored.
#[derive(Debug)]
pub struct IssuedCode {
    pub account: Account,
    pub name: String,
    pub code: EnrolmentCode,
    pub purpose: CodePurpose,
    pub expires_at: Timestamp,
}

/// Longest reason kept in the trail.
const MAX_REASON: usize = 200;

/// §3: issues `account` a one-time code for first enrolment or a reset. Issuing a new code
/// makes the person's older unused codes stop working. The inner `Err` is a refusal
/// (audited; nothing changed).
#[allow(
    clippy::too_many_arguments,
    reason = "one use case; each input is a distinct part of the decision"
)]
pub async fn issue_code(
    store: &Store,
    desk: &AdministratorDesk,
    settings: &CodeSettings,
    account: &str,
    purpose: CodePurpose,
    reason: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<IssuedCode, EnrolmentRefusal>, AppError> {
    let reason: String = reason.trim().chars().take(MAX_REASON).collect();
    let mut event = AuditEvent::system(now, AuditAction::EnrolmentCodeIssued, request_id)
        .on(
            "account",
            account.trim().chars().take(32).collect::<String>(),
        )
        .by(Actor {
            person: desk.person(),
            role: Some(Role::PermissionAdministrator),
        })
        .detail("purpose", purpose.code());
    let refuse = |r: EnrolmentRefusal, event: AuditEvent| async move {
        crate::audit::record_refusal(store, event, r.code()).await?;
        Ok::<_, AppError>(Err(r))
    };
    let person = match Account::parse(account.trim()) {
        Ok(a) => store.person_by_account(&a).await?,
        Err(_) => None,
    };
    let Some(person) = person else {
        return refuse(EnrolmentRefusal::UnknownAccount, event).await;
    };
    event = event.on("account", person.account.as_str());
    if reason.chars().any(char::is_control) || (purpose == CodePurpose::Reset && reason.is_empty())
    {
        return refuse(EnrolmentRefusal::ReasonRequired, event).await;
    }
    if let Err(r) = may_enrol(person.status) {
        return refuse(r, event).await;
    }
    if store.account_disabled(person.id).await? {
        return refuse(EnrolmentRefusal::NotInService, event).await;
    }
    // Without the last four ID digits on record the card could not be checked at enrolment.
    if store.person_id_last4(person.id).await?.is_none() {
        return refuse(EnrolmentRefusal::NoDigitsOnRecord, event).await;
    }
    let code = new_code()?;
    let expires_at = settings.expiry(now);
    let mut tx = store.begin().await?;
    tx.insert_enrolment_code(&NewEnrolmentCode {
        person: person.id,
        code_hash: &code_digest(&code),
        purpose,
        reason: &reason,
        issued_by: Some(desk.person()),
        issued_at: now,
        expires_at,
    })
    .await?;
    tx.append_audit(
        &event
            .detail("reason", reason.as_str())
            .detail("expires_at", expires_at.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(IssuedCode {
        account: person.account,
        name: person.name,
        code,
        purpose,
        expires_at,
    }))
}

/// What the enrolment form posts.
#[derive(Clone)]
pub struct EnrolRequest {
    pub code: String,
    /// Base64 nonce as issued by `/auth/nonce`.
    pub nonce: String,
    pub signature: String,
    pub certificate: Option<String>,
    /// `None` when the form named no format we know (refused, audited).
    pub format: Option<SignatureFormat>,
    /// The login-flow cookie the nonce was issued to.
    pub flow_token: String,
    pub password: String,
    /// The password typed a second time.
    pub password_again: String,
    pub client_addr: Option<String>,
    pub request_id: String,
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest")
            .field("code", &"<redacted>")
            .field("password", &"<redacted>")
            .field("client_addr", &self.client_addr)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// A completed enrolment: the person signs in next, as every day.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub account: Account,
    pub purpose: CodePurpose,
    pub ended_sessions: usize,
}

fn malformed(field: &str) -> AuthFailure {
    AuthFailure::new(
        format!("login.malformed_{field}"),
        "登入資料格式錯誤，請重新整理頁面後再試一次",
    )
}

/// §3: enrols the holder of a code with their own card and a password of their own. The
/// inner `Err` is a refusal the person sees (audited, and counted towards the rate limit).
pub async fn enrol(
    store: &Store,
    ctx: &AuthContext,
    settings: &CodeSettings,
    req: EnrolRequest,
    now: Timestamp,
) -> Result<Result<Enrolled, AuthFailure>, AppError> {
    let addr = req.client_addr.clone().unwrap_or_else(|| "-".into());
    let mut event =
        AuditEvent::system(now, AuditAction::Enrolled, req.request_id.clone()).on("account", "-");
    event.client_addr = req.client_addr.clone();
    let refuse = |f: AuthFailure, event: AuditEvent| {
        let addr = addr.clone();
        async move {
            let mut tx = store.begin().await?;
            tx.record_enrolment_failure(&addr, now).await?;
            tx.append_audit(&event.outcome(Outcome::Refused(f.code.clone())))
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(Err(f))
        }
    };
    // 1. Guessing is limited per address, before anything else is looked at.
    let failures = store
        .enrolment_failures_since(&addr, settings.rate_limit.window_start(now))
        .await?;
    if let Err(r) = settings.rate_limit.check(failures) {
        return refuse(r.into(), event).await;
    }
    // 2. The code: well-formed, known, unused, current, unexpired.
    let (row, person) = match code_holder(store, &req.code).await? {
        Ok(found) => found,
        Err(f) => return refuse(f, event).await,
    };
    event = event
        .on("account", person.account.as_str())
        .by(Actor {
            person: person.id,
            role: None,
        })
        .detail("purpose", row.purpose.code());
    if let Err(f) = may_use_code(store, &row, &person, now).await? {
        return refuse(f, event).await;
    }
    // Malformed input is refused (and audited) before the nonce is spent.
    let Some(format) = req.format else {
        return refuse(malformed("format"), event).await;
    };
    if req.password != req.password_again {
        return refuse(EnrolmentRefusal::PasswordsDiffer.into(), event).await;
    }
    // 3. The card, exactly as at sign-in.
    let card = CardSignature {
        nonce: &req.nonce,
        signature: &req.signature,
        certificate: req.certificate.as_deref(),
        format,
        flow_token: &req.flow_token,
    };
    let expired = "登入挑戰碼已逾時，請重新整理頁面";
    let cert = match card_proof(store, ctx, card, expired, now).await? {
        Ok(c) => c,
        Err(f) => return refuse(f, event).await,
    };
    // 4. The card names this person, and is nobody else's.
    if let Err(f) = card_of_person(store, &person, &cert).await? {
        return refuse(f, event).await;
    }
    // 5. Their own password, under the policy (and, on a reset, not one of the last three).
    let hash = match own_password(store, &person, &req.password).await? {
        Ok(h) => h,
        Err(f) => return refuse(f, event).await,
    };
    // 6. All at once: the code is spent, the card bound, the password set, old sessions end.
    let binding = binding_of(&cert);
    let mut tx = store.begin().await?;
    if !tx.use_enrolment_code(row.id, now).await? {
        drop(tx);
        return refuse(EnrolmentRefusal::CodeUsed.into(), event).await;
    }
    tx.bind_certificate(person.id, &binding, None, now).await?;
    tx.set_password(person.id, &hash, false, now).await?;
    let ended = tx
        .end_live_sessions(person.id, "enrolment_reset", now)
        .await?;
    tx.append_audit(
        &event
            .detail("certificate", &binding.fingerprint_sha256[..16])
            .detail("ended_sessions", ended.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Enrolled {
        account: person.account,
        purpose: row.purpose,
        ended_sessions: ended.len(),
    }))
}

/// The code typed and the person it was issued to. The code is looked up by its digest
/// only; a code not well-formed, not known, or of a person no longer on record is refused.
async fn code_holder(
    store: &Store,
    typed: &str,
) -> Result<Result<(EnrolmentCodeRow, Person), AuthFailure>, AppError> {
    let code = match EnrolmentCode::parse(typed) {
        Ok(c) => c,
        Err(r) => return Ok(Err(r.into())),
    };
    let Some(row) = store.enrolment_code_by_hash(&code_digest(&code)).await? else {
        return Ok(Err(EnrolmentRefusal::UnknownCode.into()));
    };
    let Some(person) = store.person(row.person).await? else {
        return Ok(Err(EnrolmentRefusal::UnknownCode.into()));
    };
    Ok(Ok((row, person)))
}

/// Whether the code may be used now: unused, current and unexpired, by a person in service
/// whose account is not disabled.
async fn may_use_code(
    store: &Store,
    row: &EnrolmentCodeRow,
    person: &Person,
    now: Timestamp,
) -> Result<Result<(), AuthFailure>, AppError> {
    if let Err(r) = row.life.usable(now) {
        return Ok(Err(r.into()));
    }
    if let Err(r) = may_enrol(person.status) {
        return Ok(Err(r.into()));
    }
    if store.account_disabled(person.id).await? {
        return Ok(Err(EnrolmentRefusal::NotInService.into()));
    }
    Ok(Ok(()))
}

/// The card names this person (name and last four ID digits as on record) and is bound to
/// nobody else.
async fn card_of_person(
    store: &Store,
    person: &Person,
    cert: &CitizenCertificate,
) -> Result<Result<(), AuthFailure>, AppError> {
    let last4 = store.person_id_last4(person.id).await?;
    if let Err(r) = card_matches_record(
        &person.name,
        last4.as_deref(),
        &cert.subject_cn,
        cert.id_last4.as_deref(),
    ) {
        return Ok(Err(r.into()));
    }
    if card_owner(store, cert)
        .await?
        .is_some_and(|(owner, _)| owner != person.id)
    {
        return Ok(Err(EnrolmentRefusal::CardBoundToOther.into()));
    }
    Ok(Ok(()))
}

/// The person's own password, under the policy and none of their last three; its hash.
async fn own_password(
    store: &Store,
    person: &Person,
    password: &str,
) -> Result<Result<String, AuthFailure>, AppError> {
    if let Err(r) = check_password_policy(person.account.as_str(), password) {
        return Ok(Err(r.into()));
    }
    let history = store.password_history(person.id, 3).await?;
    let password = password.to_string();
    let (reused, hash) = tokio::task::spawn_blocking(move || {
        let reused = history.iter().any(|h| verify_password(&password, h));
        (reused, hash_password(&password))
    })
    .await?;
    if reused {
        return Ok(Err(PasswordRejection::Reused.into()));
    }
    Ok(Ok(hash?))
}
