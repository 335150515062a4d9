//! The sign-in and session use cases as the web calls them (§3): finding the session behind a
//! cookie, signing in and out, the screen lock, the password, and the refusals recorded at the
//! web's edge. The web holds the [`App`] only; everything that reads or writes storage goes
//! through here or another use case.
//!
//! Security-sensitive: every refusal made here is on the trail before the answer goes out.

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::org::Account;
use querywarden_domain::permission::AdministratorDesk;
use querywarden_domain::rate_limit::Admission;
use querywarden_storage::Store;
use sha2::Digest;

use crate::auth::{
    self, AuthContext, AuthFailure, DemoCardProof, LoginRequest, MutualTlsLoginRequest, NewSession,
    SessionRefusal, SignedIn,
};
use crate::binding::bind_card;
use crate::{App, AppError};

/// The sign-in desk: the trust anchors and the sessions behind them. There is none when no
/// trust anchors are configured; then nobody can sign in (`auth.not_configured`).
///
/// 登入櫃檯（自然人憑證）.
pub struct SignInDesk<'a> {
    store: &'a Store,
    ctx: &'a AuthContext,
}

impl App {
    /// The sign-in desk, or `None` when no trust anchors are configured.
    pub fn sign_in_desk(&self) -> Option<SignInDesk<'_>> {
        self.auth().map(|ctx| SignInDesk {
            store: self.store(),
            ctx,
        })
    }
}

impl SignInDesk<'_> {
    /// The live, unlocked session behind a cookie value. §3: a request on a locked screen is
    /// refused and the refusal recorded; over mutual TLS (`peer_leaf`, DER) a session belongs
    /// to the card it signed in with, so a cookie replayed on a connection with another
    /// certificate is no session.
    pub async fn session(
        &self,
        token: &str,
        peer_leaf: Option<&[u8]>,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<SignedIn, SessionRefusal>, AppError> {
        let found = auth::authenticate(self.store, self.ctx, token, now).await?;
        if let Err(SessionRefusal::Locked) = &found
            && let Some(who) = self.session_even_if_locked(token, now).await?
        {
            auth::refuse_request(self.store, &who, "session.locked", None, now, request_id).await?;
        }
        if let (Ok(s), Some(leaf)) = (&found, peer_leaf)
            && hex::encode(sha2::Sha256::digest(leaf)) != s.session.cert_fingerprint
        {
            return Ok(Err(SessionRefusal::None));
        }
        Ok(found)
    }

    /// The session behind a token even while locked: for the lock page, unlock and sign-out.
    pub async fn session_even_if_locked(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<SignedIn>, AppError> {
        auth::session_even_if_locked(self.store, self.ctx, token, now).await
    }

    /// A single-use nonce for the browser holding `flow_token`, and when it expires.
    pub async fn issue_nonce(
        &self,
        flow_token: &str,
        now: Timestamp,
    ) -> Result<(String, Timestamp), AppError> {
        auth::issue_nonce(self.store, self.ctx, flow_token, now).await
    }

    /// Signs in with a signed nonce. The inner `Err` is a refusal, already recorded.
    pub async fn sign_in(
        &self,
        req: LoginRequest,
        now: Timestamp,
    ) -> Result<Result<NewSession, AuthFailure>, AppError> {
        auth::login(self.store, self.ctx, req, now).await
    }

    /// Signs in with the certificate of the TLS connection. The inner `Err` is a refusal,
    /// already recorded.
    pub async fn sign_in_with_client_certificate(
        &self,
        req: MutualTlsLoginRequest,
        now: Timestamp,
    ) -> Result<Result<NewSession, AuthFailure>, AppError> {
        auth::login_with_client_certificate(self.store, self.ctx, req, now).await
    }

    /// A sign-in form with a signature format that is neither PKCS#7 nor PKCS#1: the refusal,
    /// recorded.
    pub async fn refuse_malformed_sign_in(
        &self,
        account: &str,
        client_addr: Option<String>,
        now: Timestamp,
        request_id: &str,
    ) -> Result<AuthFailure, AppError> {
        auth::refuse_malformed_login(self.store, account, client_addr, now, request_id).await
    }

    /// §3: unlocks the screen with the password; wrong passwords count towards the lockout.
    pub async fn unlock(
        &self,
        who: &SignedIn,
        password: String,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<(), AuthFailure>, AppError> {
        auth::unlock(self.store, self.ctx, who, password, now, request_id).await
    }

    /// §3: changes the password (policy, history); every refusal recorded.
    pub async fn change_password(
        &self,
        who: &SignedIn,
        current: String,
        new: String,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<(), AuthFailure>, AppError> {
        auth::change_password(self.store, self.ctx, who, current, new, now, request_id).await
    }

    /// §3: binds (or re-binds) `account`'s card, by the permission administrator's desk.
    pub async fn bind_card(
        &self,
        desk: &AdministratorDesk,
        account: &Account,
        certificate: &[u8],
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<querywarden_storage::CertificateBinding, AuthFailure>, AppError> {
        bind_card(
            self.store,
            self.ctx,
            desk,
            account,
            certificate,
            now,
            request_id,
        )
        .await
    }

    /// DEMO: whether the demo card of `account` may sign for this caller (its password or its
    /// enrolment code); a refusal is recorded like a sign-in failure.
    pub async fn demo_card_holder(
        &self,
        account: &str,
        proof: DemoCardProof,
        client_addr: Option<String>,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<(), AuthFailure>, AppError> {
        auth::demo_card_holder(
            self.store,
            self.ctx,
            account,
            proof,
            client_addr,
            now,
            request_id,
        )
        .await
    }
}

/// §3, §9: a request refused at the web's edge (a CSRF token that does not match, a page of
/// another role, an upload too large), recorded with its code.
pub async fn refuse(
    app: &App,
    who: &SignedIn,
    code: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    auth::refuse_request(app.store(), who, code, None, now, request_id).await
}

/// §3: locks the screen (the idle timer, or "lock now").
pub async fn lock(
    app: &App,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    auth::lock(app.store(), who, now, request_id).await
}

/// Signs out: the session ends, and the trail says so.
pub async fn sign_out(
    app: &App,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<(), AppError> {
    auth::logout(app.store(), who, now, request_id).await
}

/// Whether the signed-in person must choose a new password before anything else (§3: the
/// first sign-in, or after an administrator's reset).
pub async fn must_change_password(app: &App, who: &SignedIn) -> Result<bool, AppError> {
    Ok(app
        .store()
        .credentials(who.person.id)
        .await?
        .is_some_and(|c| c.must_change))
}

/// §3: counts this attempt against each of its rate limits (`(what, key)`). Over a limit,
/// the wait; the first refusal of a window is recorded (the rest of a flood would only flood
/// the trail).
pub async fn over_limit(
    app: &App,
    who: &SignedIn,
    checks: &[(crate::limits::Limited, String)],
    now: Timestamp,
    request_id: &str,
) -> Result<Option<SignedDuration>, AppError> {
    let mut refused = None;
    for (what, key) in checks {
        if let Admission::Refused { retry_after, first } = app.admit(*what, key, now) {
            refused = Some((retry_after, first));
        }
    }
    let Some((retry_after, first)) = refused else {
        return Ok(None);
    };
    if first {
        refuse(app, who, "rate.limited", now, request_id).await?;
    }
    Ok(Some(retry_after))
}
