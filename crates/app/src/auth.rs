//! Sign-in use cases (§3): the person's own citizen certificate — proved either by a signed
//! one-time nonce or by the TLS client certificate of a mutual-TLS connection — plus their
//! password; one live session per person; screen lock; sign-out; password change.
//!
//! Security-sensitive. Every refusal is audited with its reason and leaves no session behind.
//! Session tokens and nonces live in the database only as SHA-256 digests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::{SignedDuration, Timestamp};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::auth::{
    FailureOutcome, LockoutPolicy, PasswordRejection, SessionPolicy, SessionStatus, SessionTimes,
    check_password_policy,
};
use querywarden_domain::org::{Account, Person, PersonId, StaffStatus};
use querywarden_pki::{
    CitizenCertificate, PkiError, RevocationList, RevocationPolicy, SignatureFormat, TrustAnchors,
    verify_client_certificate, verify_signed_challenge,
};
use querywarden_storage::{
    CertificateBinding, NonceCheck, SessionRow, StorageError, Store, WriteTx,
};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::config::{Config, RevocationCheck};
use crate::limits::{Limited, Limits};
use querywarden_domain::rate_limit::Admission;

/// The trust material and policies sign-in needs, loaded once at start.
pub struct AuthContext {
    pub anchors: TrustAnchors,
    /// The revocation lists in force; replaced as a whole when a newer list is fetched or
    /// imported (see `enrolment::crl`), so a sign-in always sees one consistent set.
    crls: std::sync::RwLock<std::sync::Arc<Vec<RevocationList>>>,
    pub revocation: RevocationPolicy,
    pub lockout: LockoutPolicy,
    pub sessions: SessionPolicy,
    pub nonce_ttl: SignedDuration,
    /// §3: attempts per account and per address (sign-in, unlock, password change, execution).
    pub limits: Limits,
}

impl AuthContext {
    pub fn new(
        config: &Config,
        anchors: TrustAnchors,
        crls: Vec<RevocationList>,
    ) -> Result<Self, AppError> {
        let s = &config.session;
        Ok(Self {
            anchors,
            crls: std::sync::RwLock::new(std::sync::Arc::new(crls)),
            revocation: match config.auth.revocation {
                RevocationCheck::RequireCrl => RevocationPolicy::RequireCrl,
                RevocationCheck::BestEffort => RevocationPolicy::BestEffort,
            },
            lockout: LockoutPolicy {
                max_failures: s.max_failed_logins,
                lockout: SignedDuration::from_mins(s.lockout_minutes as i64),
            },
            sessions: SessionPolicy {
                idle_timeout: SignedDuration::from_mins(s.idle_timeout_minutes as i64),
                absolute_timeout: SignedDuration::from_hours(s.absolute_timeout_hours as i64),
                screen_lock_after: SignedDuration::from_mins(s.screen_lock_minutes as i64),
            },
            nonce_ttl: SignedDuration::from_secs(config.auth.nonce_ttl_seconds as i64),
            limits: Limits::new(config.limits.clone()),
        })
    }

    /// The revocation lists in force now.
    pub fn crls(&self) -> std::sync::Arc<Vec<RevocationList>> {
        match self.crls.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// §3: a signature over `message` by a card that chains to the trust anchors and is not
    /// revoked by the lists in force now.
    pub fn verify_signature(
        &self,
        message: &[u8],
        signature: &[u8],
        format: SignatureFormat,
        certificate: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<CitizenCertificate, PkiError> {
        verify_signed_challenge(
            message,
            signature,
            format,
            certificate,
            &self.anchors,
            &self.crls(),
            self.revocation,
            now,
        )
    }

    /// §3: a certificate chain (leaf first, DER) checked the same way: it chains to the trust
    /// anchors and is not revoked.
    pub fn verify_chain(
        &self,
        chain: &[Vec<u8>],
        now: Timestamp,
    ) -> Result<CitizenCertificate, PkiError> {
        verify_client_certificate(chain, &self.anchors, &self.crls(), self.revocation, now)
    }

    /// Puts a new set of revocation lists in force.
    pub fn replace_crls(&self, crls: Vec<RevocationList>) {
        let new = std::sync::Arc::new(crls);
        match self.crls.write() {
            Ok(mut g) => *g = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }

    /// Loads the configured trust anchors and CRL files.
    pub fn from_files(config: &Config) -> Result<Self, AppError> {
        let path = config.auth.trust_anchors.as_ref().ok_or_else(|| {
            AppError::Auth(AuthFailure::new(
                "auth.no_trust_anchors",
                "未設定自然人憑證信任錨（auth.trust_anchors）",
            ))
        })?;
        let pem = std::fs::read(path).map_err(unloadable("auth.trust_anchors", path))?;
        let anchors =
            TrustAnchors::from_pem_bundle(&pem).map_err(unloadable("auth.trust_anchors", path))?;
        let mut crls = Vec::new();
        for f in &config.auth.crl_files {
            let bytes = std::fs::read(f).map_err(unloadable("auth.crl_files", f))?;
            crls.push(
                RevocationList::from_der_or_pem(&bytes).map_err(unloadable("auth.crl_files", f))?,
            );
        }
        Self::new(config, anchors, crls)
    }
}

/// A refusal: a stable code for machines and a zh-TW message for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} [{code}]")]
pub struct AuthFailure {
    pub code: String,
    pub message: String,
}

impl AuthFailure {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<PkiError> for AuthFailure {
    fn from(e: PkiError) -> Self {
        Self::new(e.code(), e.message_zh())
    }
}

impl From<PasswordRejection> for AuthFailure {
    fn from(r: PasswordRejection) -> Self {
        Self::new(r.code(), r.to_string())
    }
}

/// What the login form posts.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub account: String,
    pub password: String,
    /// Base64 nonce as issued.
    pub nonce: String,
    /// Base64 signature from the card component.
    pub signature: String,
    /// Base64 DER certificate (needed for PKCS#1; PKCS#7 carries its own).
    pub certificate: Option<String>,
    pub format: SignatureFormat,
    /// The login-flow cookie the nonce was issued to.
    pub flow_token: String,
    pub client_addr: Option<String>,
    pub request_id: String,
}

impl LoginRequest {
    fn card(&self) -> CardSignature<'_> {
        CardSignature {
            nonce: &self.nonce,
            signature: &self.signature,
            certificate: self.certificate.as_deref(),
            format: self.format,
            flow_token: &self.flow_token,
        }
    }
}

/// What the login form posts when the server runs in mutual-TLS mode: account and password
/// from the form, the certificate chain from the TLS connection the form came on.
#[derive(Clone)]
pub struct MutualTlsLoginRequest {
    pub account: String,
    pub password: String,
    /// The chain the client presented in the handshake, leaf first, DER. The handshake
    /// proved possession of the leaf's key; whether we trust it is decided here.
    pub chain_der: Vec<Vec<u8>>,
    pub client_addr: Option<String>,
    pub request_id: String,
}

impl std::fmt::Debug for MutualTlsLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutualTlsLoginRequest")
            .field("account", &self.account)
            .field("password", &"<redacted>")
            .field("certificates", &self.chain_der.len())
            .field("client_addr", &self.client_addr)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// What every sign-in attempt carries, however the card was proved: what the shared steps
/// after the certificate check (binding, password, session) and their audit records need.
struct Attempt {
    account: String,
    password: String,
    client_addr: Option<String>,
    request_id: String,
}

/// A new session: the cookie value (shown once, never stored) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub person: Person,
    pub must_change_password: bool,
}

/// The person behind a live, unlocked session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub person: Person,
    pub session: SessionRow,
}

impl SignedIn {
    pub fn actor(&self) -> Actor {
        Actor {
            person: self.person.id,
            role: None,
        }
    }

    /// Constant-time comparison of the submitted CSRF token (`subtle`, so the time taken does
    /// not tell a forger how many leading bytes were right). The length is not secret.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = self.session.csrf_token.as_bytes();
        let b = submitted.as_bytes();
        bool::from(a.ct_eq(b))
    }
}

/// Why a request's session is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No cookie, or a token that matches no session.
    None,
    /// §3: locked screen; only unlock and sign-out.
    Locked,
    Expired(SessionStatus),
    /// The account was disabled after sign-in.
    Disabled,
}

/// `setting`'s file at `path` could not be read or parsed at start.
fn unloadable<E: Into<crate::BoxError>>(
    setting: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(E) -> AppError {
    let path = path.to_path_buf();
    move |e| AppError::AuthFiles {
        setting,
        path,
        source: e.into(),
    }
}

pub fn random_token() -> Result<String, AppError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(AppError::Randomness)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Argon2id with the crate's recommended parameters (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(AppError::Randomness)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::PasswordHash)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::PasswordHash)
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Runs password hashing off the async workers: it takes tens of milliseconds by design.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// Who may sign in: active staff, and transferred staff — §2 asks them to file the
/// job-change application themselves (their grants stay suspended meanwhile). Staff on leave
/// or gone may not, nor an account the administrator disabled (e.g. idle for 90 days).
fn may_sign_in(status: StaffStatus) -> bool {
    matches!(status, StaffStatus::Active | StaffStatus::Transferred)
}

fn refusal(code: &str, zh: &str) -> AuthFailure {
    AuthFailure::new(code, zh)
}

/// Issues a single-use nonce to the browser holding `flow_token`.
pub async fn issue_nonce(
    store: &Store,
    ctx: &AuthContext,
    flow_token: &str,
    now: Timestamp,
) -> Result<(String, Timestamp), AppError> {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(AppError::Randomness)?;
    let nonce = B64.encode(raw);
    let expires = now.saturating_add(ctx.nonce_ttl).unwrap_or(now);
    let mut tx = store.begin().await?;
    tx.insert_nonce(&digest(&nonce), &digest(flow_token), now, expires)
        .await?;
    tx.commit().await?;
    Ok((nonce, expires))
}

/// Appends a refused sign-in to the trail, in its own transaction, and returns the refusal.
async fn refuse(
    store: &Store,
    req: &Attempt,
    person: Option<&Person>,
    failure: AuthFailure,
    now: Timestamp,
) -> Result<Result<NewSession, AuthFailure>, AppError> {
    crate::audit::record_refusal(store, login_event(req, person, now), &failure.code).await?;
    Ok(Err(failure))
}

fn login_event(req: &Attempt, person: Option<&Person>, now: Timestamp) -> AuditEvent {
    let mut e = AuditEvent::system(now, AuditAction::LoginFailed, req.request_id.clone()).on(
        "account",
        person.map_or("-".to_string(), |p| p.account.as_str().to_string()),
    );
    e.client_addr = req.client_addr.clone();
    if let Some(p) = person {
        e = e.by(Actor {
            person: p.id,
            role: None,
        });
    }
    e
}

fn decode_b64(field: &str, value: &str) -> Result<Vec<u8>, AuthFailure> {
    B64.decode(value.trim()).map_err(|_| {
        AuthFailure::new(
            format!("login.malformed_{field}"),
            "登入資料格式錯誤，請重新整理頁面後再試一次",
        )
    })
}

/// The sign-in form's card fields as bytes: the signature, and the certificate unless left
/// empty (base64 both); a field that is not base64 is `login.malformed_<field>`. Also the
/// entry the `web_sign_in` fuzz target reaches through the form.
#[doc(hidden)]
pub fn decode_card_fields(
    signature: &str,
    certificate: Option<&str>,
) -> Result<(Vec<u8>, Option<Vec<u8>>), AuthFailure> {
    let sig = decode_b64("signature", signature)?;
    let cert = certificate
        .filter(|c| !c.trim().is_empty())
        .map(|c| decode_b64("certificate", c))
        .transpose()?;
    Ok((sig, cert))
}

/// §3: counts one password attempt against the limits of its keys; the refusal, if any.
fn over_limit(
    ctx: &AuthContext,
    checks: &[(Limited, String)],
    now: Timestamp,
) -> Option<AuthFailure> {
    let mut refused = None;
    for (what, key) in checks {
        if let Admission::Refused { retry_after, .. } = ctx.limits.admit(*what, key, now) {
            let secs = retry_after.as_secs().max(1);
            refused = Some(refusal(
                "rate.limited",
                &format!("嘗試次數過多，請 {secs} 秒後再試"),
            ));
        }
    }
    refused
}

/// §3: counts one failed password inside `tx` — one statement that increments and returns
/// the count, so parallel failures each count — and says what it did to the account.
async fn count_failure(
    tx: &mut querywarden_storage::WriteTx,
    ctx: &AuthContext,
    person: &Person,
    now: Timestamp,
) -> Result<FailureOutcome, AppError> {
    let until = now.saturating_add(ctx.lockout.lockout).unwrap_or(now);
    let failures = tx
        .count_login_failure(person.id, ctx.lockout.max_failures, until)
        .await?;
    Ok(ctx.lockout.on_failure(failures.saturating_sub(1), now))
}

/// A wrong password at sign-in (or at the demo signer): counted towards the lockout in the
/// same transaction as its audit record; the failure that reaches the lockout locks.
async fn wrong_password(
    store: &Store,
    ctx: &AuthContext,
    req: &Attempt,
    person: &Person,
    now: Timestamp,
) -> Result<AuthFailure, AppError> {
    let mut tx = store.begin().await?;
    let failure = match count_failure(&mut tx, ctx, person, now).await? {
        FailureOutcome::Counted { remaining, .. } => refusal(
            "login.wrong_password",
            &format!("密碼錯誤（再錯 {remaining} 次將鎖定帳號）"),
        ),
        FailureOutcome::LockedUntil(until) => {
            let mut e = AuditEvent::system(now, AuditAction::AccountLocked, req.request_id.clone())
                .on("account", person.account.as_str())
                .by(Actor {
                    person: person.id,
                    role: None,
                })
                .detail("locked_until", until.to_string());
            e.client_addr = req.client_addr.clone();
            tx.append_audit(&e).await?;
            locked_out()
        }
    };
    tx.append_audit(
        &login_event(req, Some(person), now)
            .outcome(Outcome::Refused("login.wrong_password".into())),
    )
    .await?;
    tx.commit().await?;
    Ok(failure)
}

/// What the person at the demo signer proves they are entitled to the account's card with.
pub enum DemoCardProof {
    /// Every day: the account's password.
    Password(String),
    /// At enrolment or a reset (§3), when there is no password yet, or it is the one being
    /// replaced: the one-time code the administrator issued for this very account.
    EnrolmentCode {
        code: String,
        settings: crate::enrolment::CodeSettings,
    },
}

impl std::fmt::Debug for DemoCardProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Password(_) => "Password(<redacted>)",
            Self::EnrolmentCode { .. } => "EnrolmentCode(<redacted>)",
        })
    }
}

/// DEMO only (§3 as the demo shows it): the demo card signs for an account only for someone
/// who knows its password — or, on the enrolment page, holds a valid, unused, unexpired
/// enrolment code issued for that account — so the demo keeps the real two factors and its
/// signer cannot be used to sign anything for anyone. A wrong password counts and is audited
/// like a sign-in failure; a wrong code is audited and counts towards the enrolment guessing
/// limit of the address, as at `/enrol`.
pub async fn demo_card_holder(
    store: &Store,
    ctx: &AuthContext,
    account: &str,
    proof: DemoCardProof,
    client_addr: Option<String>,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(), AuthFailure>, AppError> {
    let attempt = Attempt {
        account: account.to_string(),
        password: String::new(),
        client_addr,
        request_id: request_id.to_string(),
    };
    let person = match Account::parse(account) {
        Ok(a) => store.person_by_account(&a).await?,
        Err(_) => None,
    };
    let password = match proof {
        DemoCardProof::Password(p) => p,
        DemoCardProof::EnrolmentCode { code, settings } => {
            return demo_card_by_code(store, &settings, &attempt, person.as_ref(), &code, now)
                .await;
        }
    };
    let wrong = || refusal("login.wrong_password", "密碼錯誤");
    let Some(person) = person else {
        return Ok(refuse(store, &attempt, None, wrong(), now)
            .await?
            .map(|_| ()));
    };
    let Some(creds) = store.credentials(person.id).await? else {
        return Ok(refuse(store, &attempt, Some(&person), wrong(), now)
            .await?
            .map(|_| ()));
    };
    if ctx.lockout.is_locked(creds.locked_until, now) {
        let locked = locked_out();
        return Ok(refuse(store, &attempt, Some(&person), locked, now)
            .await?
            .map(|_| ()));
    }
    let hash = creds.password_hash;
    if blocking(move || verify_password(&password, &hash)).await? {
        return Ok(Ok(()));
    }
    Ok(Err(
        wrong_password(store, ctx, &attempt, &person, now).await?
    ))
}

/// The demo signer on the enrolment page (§3): the code must be one issued for this very
/// account and still usable. A code for another account is refused as unknown, so the
/// signer tells a guesser nothing. The code is not spent here: `/enrol` spends it.
async fn demo_card_by_code(
    store: &Store,
    settings: &crate::enrolment::CodeSettings,
    attempt: &Attempt,
    person: Option<&Person>,
    code: &str,
    now: Timestamp,
) -> Result<Result<(), AuthFailure>, AppError> {
    use querywarden_domain::enrolment::{EnrolmentCode, EnrolmentRefusal};
    let addr = attempt.client_addr.clone().unwrap_or_else(|| "-".into());
    let refuse = |r: EnrolmentRefusal| {
        let addr = addr.clone();
        async move {
            let mut tx = store.begin().await?;
            tx.record_enrolment_failure(&addr, now).await?;
            tx.append_audit(
                &login_event(attempt, person, now)
                    .detail("demo_signer", "enrolment_code")
                    .outcome(Outcome::Refused(r.code().into())),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, AppError>(Err(AuthFailure::from(r)))
        }
    };
    let failures = store
        .enrolment_failures_since(&addr, settings.rate_limit.window_start(now))
        .await?;
    if let Err(r) = settings.rate_limit.check(failures) {
        return refuse(r).await;
    }
    let code = match EnrolmentCode::parse(code) {
        Ok(c) => c,
        Err(r) => return refuse(r).await,
    };
    let row = store
        .enrolment_code_by_hash(&crate::enrolment::code_digest(&code))
        .await?;
    let Some(row) = row.filter(|r| person.is_some_and(|p| p.id == r.person)) else {
        return refuse(EnrolmentRefusal::UnknownCode).await;
    };
    if let Err(r) = row.life.usable(now) {
        return refuse(r).await;
    }
    Ok(Ok(()))
}

/// Signs a person in. The outer `Result` is a system failure; the inner one a refusal the
/// person sees (already audited).
pub async fn login(
    store: &Store,
    ctx: &AuthContext,
    req: LoginRequest,
    now: Timestamp,
) -> Result<Result<NewSession, AuthFailure>, AppError> {
    let attempt = Attempt {
        account: req.account.clone(),
        password: req.password.clone(),
        client_addr: req.client_addr.clone(),
        request_id: req.request_id.clone(),
    };
    // 1–2. The nonce and the card's signature over it.
    let cert = card_proof(store, ctx, req.card(), NONCE_EXPIRED_AT_SIGN_IN, now).await?;
    finish_login(store, ctx, &attempt, cert, now).await
}

/// A card's signature over a sign-in nonce, as a form posts it (sign-in, enrolment).
pub(crate) struct CardSignature<'a> {
    /// Base64 nonce as issued.
    pub nonce: &'a str,
    /// Base64 signature from the card component.
    pub signature: &'a str,
    /// Base64 DER certificate (needed for PKCS#1; PKCS#7 carries its own).
    pub certificate: Option<&'a str>,
    pub format: SignatureFormat,
    /// The login-flow cookie the nonce was issued to.
    pub flow_token: &'a str,
}

/// What sign-in says of an expired nonce (enrolment says it without the default lifetime).
const NONCE_EXPIRED_AT_SIGN_IN: &str = "登入挑戰碼已逾時（2 分鐘），請重新整理頁面";

/// §3: what a card proves, the same at sign-in and at enrolment: the nonce was issued to this
/// browser, is unexpired and was never used (it is spent whatever follows), and a card that
/// chains to the trust anchors and is not revoked signed it.
pub(crate) async fn card_proof(
    store: &Store,
    ctx: &AuthContext,
    card: CardSignature<'_>,
    expired: &str,
    now: Timestamp,
) -> Result<Result<CitizenCertificate, AuthFailure>, AppError> {
    let nonce_check = {
        let mut tx = store.begin().await?;
        let c = tx
            .consume_nonce(&digest(card.nonce), &digest(card.flow_token), now)
            .await?;
        tx.commit().await?;
        c
    };
    let nonce_refusal = match nonce_check {
        NonceCheck::Fresh => None,
        NonceCheck::Unknown => Some(("login.nonce_unknown", "登入挑戰碼無效，請重新整理頁面")),
        NonceCheck::OtherFlow => Some((
            "login.nonce_other_session",
            "登入挑戰碼不屬於此瀏覽器，請重新整理頁面",
        )),
        NonceCheck::Expired => Some(("login.nonce_expired", expired)),
        NonceCheck::AlreadyUsed => {
            Some(("login.nonce_reused", "登入挑戰碼已使用過，請重新整理頁面"))
        }
    };
    if let Some((code, zh)) = nonce_refusal {
        return Ok(Err(refusal(code, zh)));
    }
    let (signature, certificate) = match decode_card_fields(card.signature, card.certificate) {
        Ok(fields) => fields,
        Err(f) => return Ok(Err(f)),
    };
    let message = card.nonce.as_bytes();
    Ok(ctx
        .verify_signature(
            message,
            &signature,
            card.format,
            certificate.as_deref(),
            now,
        )
        .map_err(AuthFailure::from))
}

/// The person the card is bound to, if any, with the binding.
pub(crate) async fn card_owner(
    store: &Store,
    cert: &CitizenCertificate,
) -> Result<Option<(PersonId, CertificateBinding)>, StorageError> {
    let issuer_key = cert.issuer_key_id.as_deref().unwrap_or_default();
    store
        .binding_by_certificate(issuer_key, &cert.serial_hex)
        .await
}

/// Signs a person in by the client certificate of their mutual-TLS connection (§3)
/// plus their password. The handshake proved possession of the card's key; this
/// makes the trust decision with the same verifier as the signed challenge, then runs the
/// same binding, password and session steps. Refusals are audited like [`login`]'s.
pub async fn login_with_client_certificate(
    store: &Store,
    ctx: &AuthContext,
    req: MutualTlsLoginRequest,
    now: Timestamp,
) -> Result<Result<NewSession, AuthFailure>, AppError> {
    let attempt = Attempt {
        account: req.account,
        password: req.password,
        client_addr: req.client_addr,
        request_id: req.request_id,
    };
    let cert = ctx
        .verify_chain(&req.chain_der, now)
        .map_err(AuthFailure::from);
    finish_login(store, ctx, &attempt, cert, now).await
}

/// The steps every sign-in shares once the card is checked: a certificate not trusted is
/// refused (audited); then binding, identity, account status, lockout, password, and the one
/// live session.
async fn finish_login(
    store: &Store,
    ctx: &AuthContext,
    req: &Attempt,
    cert: Result<CitizenCertificate, AuthFailure>,
    now: Timestamp,
) -> Result<Result<NewSession, AuthFailure>, AppError> {
    let cert = match cert {
        Ok(c) => c,
        Err(f) => return refuse(store, req, None, f, now).await,
    };
    // 3. The binding: this card belongs to this account, and still names this person.
    let Some((person, binding)) = card_holder(store, &cert).await? else {
        let unbound = refusal(
            "login.certificate_unbound",
            "此憑證尚未綁定任何帳號，請洽權限管理者",
        );
        return refuse(store, req, None, unbound, now).await;
    };
    if let Some(f) = not_this_account(store, req, &cert, &person, &binding).await? {
        return refuse(store, req, Some(&person), f, now).await;
    }
    if !may_sign_in(person.status) || store.account_disabled(person.id).await? {
        let disabled = refusal("login.account_disabled", "此帳號已停用，請洽權限管理者");
        return refuse(store, req, Some(&person), disabled, now).await;
    }
    // §3: password attempts per account and per address are bounded, beyond the lockout
    // (one address trying many accounts with a stolen card is stopped here too).
    let checks = crate::limits::checks(
        Limited::SignInAccount,
        person.id,
        Limited::SignInAddress,
        req.client_addr.as_deref(),
    );
    if let Some(f) = over_limit(ctx, &checks, now) {
        return refuse(store, req, Some(&person), f, now).await;
    }
    // 4. The password, unless the account is locked out.
    let Some(creds) = store.credentials(person.id).await? else {
        let none = refusal("login.no_password", "此帳號尚未設定密碼，請洽權限管理者");
        return refuse(store, req, Some(&person), none, now).await;
    };
    if ctx.lockout.is_locked(creds.locked_until, now) {
        return refuse(store, req, Some(&person), locked_out(), now).await;
    }
    let password = req.password.clone();
    let hash = creds.password_hash.clone();
    if !blocking(move || verify_password(&password, &hash)).await? {
        return Ok(Err(wrong_password(store, ctx, req, &person, now).await?));
    }
    start_session(store, ctx, req, &cert, person, creds.must_change, now).await
}

/// The lockout's refusal (§3): at sign-in, before the password is checked or after, and when the
/// password is changed.
fn locked_out() -> AuthFailure {
    refusal(
        "login.account_locked",
        "密碼錯誤次數過多，帳號暫時鎖定，請稍後再試或洽權限管理者",
    )
}

/// The person the card is bound to, and the binding; none when the card is bound to no
/// account or to a person no longer on record.
async fn card_holder(
    store: &Store,
    cert: &CitizenCertificate,
) -> Result<Option<(Person, CertificateBinding)>, AppError> {
    let Some((bound_person, binding)) = card_owner(store, cert).await? else {
        return Ok(None);
    };
    Ok(store.person(bound_person).await?.map(|p| (p, binding)))
}

/// Why the card's holder may not sign in as the account typed, if they may not: the card
/// is bound to another account, or no longer names this person (the name or the ID's last
/// four on the certificate differ from the personnel record, or the certificate is not the
/// one bound: another fingerprint under the same serial).
async fn not_this_account(
    store: &Store,
    req: &Attempt,
    cert: &CitizenCertificate,
    person: &Person,
    binding: &CertificateBinding,
) -> Result<Option<AuthFailure>, AppError> {
    let typed = Account::parse(&req.account).ok();
    if typed.as_ref() != Some(&person.account) {
        return Ok(Some(refusal(
            "login.certificate_other_account",
            "此憑證綁定的不是您輸入的帳號",
        )));
    }
    let last4 = store.person_id_last4(person.id).await?;
    if !querywarden_domain::person_name::same_person_name(&cert.subject_cn, &person.name)
        || cert.id_last4.is_none()
        || cert.id_last4 != last4
        || binding.fingerprint_sha256 != cert.fingerprint_sha256
    {
        return Ok(Some(refusal(
            "login.certificate_identity_mismatch",
            "憑證上的姓名或身分證末四碼與人事資料不符，請洽權限管理者",
        )));
    }
    Ok(None)
}

/// Step 5 of a sign-in, in: ends any other live session (§3: one person, one session) and
/// starts this one, each with its audit record.
async fn start_session(
    store: &Store,
    ctx: &AuthContext,
    req: &Attempt,
    cert: &CitizenCertificate,
    person: Person,
    must_change_password: bool,
    now: Timestamp,
) -> Result<Result<NewSession, AuthFailure>, AppError> {
    let token = random_token()?;
    let csrf = random_token()?;
    let mut tx = store.begin().await?;
    // §3: failures counted in parallel while this password was being checked may have
    // locked the account; the lock wins.
    if ctx
        .lockout
        .is_locked(tx.login_locked_until(person.id).await?, now)
    {
        let failure = locked_out();
        tx.append_audit(
            &login_event(req, Some(&person), now).outcome(Outcome::Refused(failure.code.clone())),
        )
        .await?;
        tx.commit().await?;
        return Ok(Err(failure));
    }
    tx.set_login_failures(person.id, 0, None).await?;
    let ended = end_other_sessions(&mut tx, req, &person, now).await?;
    let row = SessionRow {
        token_hash: digest(&token),
        person: person.id,
        csrf_token: csrf.clone(),
        created_at: now,
        last_seen_at: now,
        locked: false,
        ended: false,
        cert_fingerprint: cert.fingerprint_sha256.clone(),
        client_addr: req.client_addr.clone(),
    };
    tx.insert_session(&row).await?;
    let mut e = on_session(
        now,
        AuditAction::LoginSucceeded,
        req.request_id.clone(),
        &row.token_hash,
        person.id,
    )
    .detail("certificate", &cert.fingerprint_sha256[..16])
    .detail("ended_sessions", ended);
    e.client_addr = req.client_addr.clone();
    tx.append_audit(&e).await?;
    tx.commit().await?;
    Ok(Ok(NewSession {
        token,
        csrf_token: csrf,
        person,
        must_change_password,
    }))
}

/// §3: one person, one session: the person's other live sessions end as this one starts,
/// each audited. Returns how many ended.
async fn end_other_sessions(
    tx: &mut WriteTx,
    req: &Attempt,
    person: &Person,
    now: Timestamp,
) -> Result<usize, AppError> {
    let ended = tx
        .end_live_sessions(person.id, "replaced_by_new_login", now)
        .await?;
    for old in &ended {
        let mut e = on_session(
            now,
            AuditAction::SessionEnded,
            req.request_id.clone(),
            old,
            person.id,
        )
        .detail("reason", "replaced_by_new_login");
        e.client_addr = req.client_addr.clone();
        tx.append_audit(&e).await?;
    }
    Ok(ended.len())
}

/// Where a stored session stands now under the configured timeouts.
fn session_status(ctx: &AuthContext, session: &SessionRow, now: Timestamp) -> SessionStatus {
    ctx.sessions.status(
        &SessionTimes {
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            locked: session.locked,
            ended: session.ended,
        },
        now,
    )
}

/// Finds the live session behind a cookie value. Touches it at most once a minute, so that
/// reading pages does not turn every request into a write.
pub async fn authenticate(
    store: &Store,
    ctx: &AuthContext,
    token: &str,
    now: Timestamp,
) -> Result<Result<SignedIn, SessionRefusal>, AppError> {
    let Some(session) = store.session(&digest(token)).await? else {
        return Ok(Err(SessionRefusal::None));
    };
    let status = session_status(ctx, &session, now);
    let Some(person) = store.person(session.person).await? else {
        return Ok(Err(SessionRefusal::None));
    };
    match status {
        SessionStatus::Active | SessionStatus::Locked => {}
        SessionStatus::Ended => return Ok(Err(SessionRefusal::Expired(status))),
        SessionStatus::IdleExpired | SessionStatus::AbsoluteExpired => {
            let mut tx = store.begin().await?;
            if tx
                .end_session(&session.token_hash, status.code(), now)
                .await?
            {
                tx.append_audit(
                    &on_session(
                        now,
                        AuditAction::SessionEnded,
                        crate::new_request_id(),
                        &session.token_hash,
                        person.id,
                    )
                    .detail("reason", status.code()),
                )
                .await?;
            }
            tx.commit().await?;
            return Ok(Err(SessionRefusal::Expired(status)));
        }
    }
    if !may_sign_in(person.status) || store.account_disabled(person.id).await? {
        return Ok(Err(SessionRefusal::Disabled));
    }
    if status == SessionStatus::Locked {
        if !session.locked {
            // §3: idle past the screen-lock time; the server locks it (the data stays hidden
            // until the password unlocks it), whether or not the page's script ran.
            let mut tx = store.begin().await?;
            tx.set_session_locked_idle(&session.token_hash).await?;
            tx.append_audit(
                &on_session(
                    now,
                    AuditAction::SessionLocked,
                    crate::new_request_id(),
                    &session.token_hash,
                    person.id,
                )
                .detail("reason", "idle"),
            )
            .await?;
            tx.commit().await?;
        }
        return Ok(Err(SessionRefusal::Locked));
    }
    // Touched often enough that the server's idle lock never comes much before the page's.
    if now.duration_since(session.last_seen_at) >= SignedDuration::from_secs(15) {
        let mut tx = store.begin().await?;
        tx.touch_session(&session.token_hash, now).await?;
        tx.commit().await?;
    }
    Ok(Ok(SignedIn { person, session }))
}

/// The session behind a token even when locked (for the unlock page and sign-out).
pub async fn session_even_if_locked(
    store: &Store,
    ctx: &AuthContext,
    token: &str,
    now: Timestamp,
) -> Result<Option<SignedIn>, AppError> {
    let Some(session) = store.session(&digest(token)).await? else {
        return Ok(None);
    };
    let status = session_status(ctx, &session, now);
    if !matches!(status, SessionStatus::Active | SessionStatus::Locked) {
        return Ok(None);
    }
    Ok(store
        .person(session.person)
        .await?
        .map(|person| SignedIn { person, session }))
}

fn session_event(
    who: &SignedIn,
    action: AuditAction,
    now: Timestamp,
    request_id: &str,
) -> AuditEvent {
    on_session(
        now,
        action,
        request_id,
        &who.session.token_hash,
        who.person.id,
    )
}

/// An event on the session whose token digest is `token_hash`, named in the trail by the
/// digest's first 16 characters, by `person` in no particular role.
fn on_session(
    now: Timestamp,
    action: AuditAction,
    request_id: impl Into<String>,
    token_hash: &str,
    person: PersonId,
) -> AuditEvent {
    AuditEvent::system(now, action, request_id)
        .on("session", &token_hash[..16])
        .by(Actor { person, role: None })
}

/// §3, §9: a request refused before it reached a use case — a form whose CSRF token does not
/// match its session's, or a request on a locked screen — recorded with its code like every
/// other refusal. The web layer calls this; it never writes storage itself.
pub async fn refuse_request(
    store: &Store,
    who: &SignedIn,
    code: &str,
    client_addr: Option<String>,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    let mut e = session_event(who, AuditAction::AccessRefused, now, request_id)
        .outcome(Outcome::Refused(code.to_string()));
    e.client_addr = client_addr;
    crate::audit::record(store, &e).await?;
    Ok(())
}

/// A sign-in form whose signature format is neither PKCS#7 nor PKCS#1: refused and audited
/// like every other malformed sign-in field.
pub async fn refuse_malformed_login(
    store: &Store,
    account: &str,
    client_addr: Option<String>,
    now: Timestamp,
    request_id: &str,
) -> Result<AuthFailure, AppError> {
    let failure = AuthFailure::new(
        "login.malformed_format",
        "登入資料格式錯誤，請重新整理頁面後再試一次",
    );
    refuse_sign_in(store, account, client_addr, failure, now, request_id).await
}

/// A sign-in attempt refused before any check ran (a malformed field, too many attempts):
/// audited like every sign-in refusal.
pub async fn refuse_sign_in(
    store: &Store,
    account: &str,
    client_addr: Option<String>,
    failure: AuthFailure,
    now: Timestamp,
    request_id: &str,
) -> Result<AuthFailure, AppError> {
    let attempt = Attempt {
        account: account.to_string(),
        password: String::new(),
        client_addr,
        request_id: request_id.to_string(),
    };
    crate::audit::record_refusal(store, login_event(&attempt, None, now), &failure.code).await?;
    Ok(failure)
}

/// §3: lock the screen (the page asks after inactivity, or the person clicks "lock now").
pub async fn lock(
    store: &Store,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    let mut tx = store.begin().await?;
    set_locked(&mut tx, who, true, now, request_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Locks (or unlocks) `who`'s session, recorded as `session.locked` (`session.unlocked`).
async fn set_locked(
    tx: &mut WriteTx,
    who: &SignedIn,
    locked: bool,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    let action = if locked {
        AuditAction::SessionLocked
    } else {
        AuditAction::SessionUnlocked
    };
    tx.set_session_locked(&who.session.token_hash, locked, now)
        .await?;
    tx.append_audit(&session_event(who, action, now, request_id))
        .await?;
    Ok(())
}

/// Unlocks with the password; wrong passwords count towards the account lockout.
pub async fn unlock(
    store: &Store,
    ctx: &AuthContext,
    who: &SignedIn,
    password: String,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(), AuthFailure>, AppError> {
    let Some(creds) = store.credentials(who.person.id).await? else {
        return Ok(Err(refusal("login.no_password", "此帳號尚未設定密碼")));
    };
    if ctx.lockout.is_locked(creds.locked_until, now) {
        return Ok(Err(refusal(
            "login.account_locked",
            "帳號暫時鎖定，請稍後再試",
        )));
    }
    let checks = crate::limits::checks(
        Limited::Unlock,
        who.person.id,
        Limited::UnlockAddress,
        who.session.client_addr.as_deref(),
    );
    if let Some(f) = over_limit(ctx, &checks, now) {
        crate::audit::record_refusal(
            store,
            session_event(who, AuditAction::SessionUnlocked, now, request_id),
            &f.code,
        )
        .await?;
        return Ok(Err(f));
    }
    let hash = creds.password_hash.clone();
    let ok = blocking(move || verify_password(&password, &hash)).await?;
    let mut tx = store.begin().await?;
    // §3: a lock counted in parallel while this password was checked wins.
    let ok = ok
        && !ctx
            .lockout
            .is_locked(tx.login_locked_until(who.person.id).await?, now);
    if ok {
        tx.set_login_failures(who.person.id, 0, None).await?;
        set_locked(&mut tx, who, false, now, request_id).await?;
        tx.commit().await?;
        return Ok(Ok(()));
    }
    // §3: the person unlocking learns, as at sign-in, how many attempts are left.
    let wrong = ("login.wrong_password", "密碼錯誤");
    let failure = wrong_password_in_session(&mut tx, ctx, who, wrong, now, request_id).await?;
    tx.append_audit(
        &session_event(who, AuditAction::SessionUnlocked, now, request_id)
            .outcome(Outcome::Refused(failure.code.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(Err(failure))
}

/// §3: a wrong password typed in an open session (to unlock it, or as the current password
/// when changing it) counts towards the lockout like a wrong sign-in. The refusal `wrong`
/// (code, message) says how many attempts are left; at the limit the session ends and the
/// lockout is audited.
async fn wrong_password_in_session(
    tx: &mut WriteTx,
    ctx: &AuthContext,
    who: &SignedIn,
    (code, message): (&str, &str),
    now: Timestamp,
    request_id: &str,
) -> Result<AuthFailure, AppError> {
    Ok(match count_failure(tx, ctx, &who.person, now).await? {
        FailureOutcome::Counted { remaining, .. } => {
            refusal(code, &format!("{message}（再錯 {remaining} 次將鎖定帳號）"))
        }
        FailureOutcome::LockedUntil(until) => {
            tx.end_session(&who.session.token_hash, "locked_out", now)
                .await?;
            tx.append_audit(
                &session_event(who, AuditAction::AccountLocked, now, request_id)
                    .detail("locked_until", until.to_string()),
            )
            .await?;
            refusal(
                "login.account_locked",
                "密碼錯誤次數過多，帳號暫時鎖定並已登出",
            )
        }
    })
}

pub async fn logout(
    store: &Store,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    let mut tx = store.begin().await?;
    tx.end_session(&who.session.token_hash, "logout", now)
        .await?;
    tx.append_audit(&session_event(who, AuditAction::Logout, now, request_id))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the password (first sign-in, or by choice): policy, history of the last 3.
/// §3: a wrong current password counts towards the lockout like a wrong sign-in (it is the
/// same secret, guessed from an open session), and every refusal is audited.
pub async fn change_password(
    store: &Store,
    ctx: &AuthContext,
    who: &SignedIn,
    current: String,
    new: String,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(), AuthFailure>, AppError> {
    let event = || {
        AuditEvent::system(now, AuditAction::PasswordChanged, request_id)
            .on("account", who.person.account.as_str())
            .by(who.actor())
    };
    let refused = |failure: AuthFailure| async move {
        crate::audit::record_refusal(store, event(), &failure.code).await?;
        Ok::<_, AppError>(Err(failure))
    };
    let Some(creds) = store.credentials(who.person.id).await? else {
        return refused(refusal("login.no_password", "此帳號尚未設定密碼")).await;
    };
    if ctx.lockout.is_locked(creds.locked_until, now) {
        return refused(locked_out()).await;
    }
    let checks = crate::limits::checks(
        Limited::PasswordChange,
        who.person.id,
        Limited::PasswordChangeAddress,
        who.session.client_addr.as_deref(),
    );
    if let Some(f) = over_limit(ctx, &checks, now) {
        return refused(f).await;
    }
    if let Err(r) = check_password_policy(who.person.account.as_str(), &new) {
        return refused(r.into()).await;
    }
    if current == new {
        return refused(PasswordRejection::SameAsCurrent.into()).await;
    }
    let history = store.password_history(who.person.id, 3).await?;
    let hash = creds.password_hash.clone();
    let (current_ok, reused, new_hash) = blocking(move || {
        let current_ok = verify_password(&current, &hash);
        let reused = history.iter().any(|h| verify_password(&new, h));
        (current_ok, reused, hash_password(&new))
    })
    .await?;
    if !current_ok {
        let mut tx = store.begin().await?;
        let wrong = ("password.current_wrong", "目前密碼不正確");
        let failure = wrong_password_in_session(&mut tx, ctx, who, wrong, now, request_id).await?;
        tx.append_audit(&event().outcome(Outcome::Refused(failure.code.clone())))
            .await?;
        tx.commit().await?;
        return Ok(Err(failure));
    }
    if reused {
        return refused(PasswordRejection::Reused.into()).await;
    }
    let mut tx = store.begin().await?;
    tx.set_password(who.person.id, &new_hash?, false, now)
        .await?;
    tx.set_login_failures(who.person.id, 0, None).await?;
    tx.append_audit(&event()).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
