//! What the sign-in, lock and password pages accept, as typed input. Every field defaults to
//! empty so that a missing field is refused by the use case with its own code, not by the
//! form parser.

use serde::Deserialize;

/// `GET /login?notice=…`: why the person was sent to sign in.
#[derive(Deserialize)]
pub struct LoginQuery {
    pub notice: Option<String>,
}

/// `POST /login`: the account, its password, and the card's signature of the nonce (or, in
/// mutual-TLS mode, nothing of the card: it comes with the connection).
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub signature: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default)]
    pub format: String,
}

/// `POST /session/lock` and `POST /logout`.
#[derive(Deserialize)]
pub struct LockForm {
    #[serde(default)]
    pub csrf: String,
    /// "Lock now": the page the button was pressed on.
    #[serde(default, rename = "return")]
    pub return_to: String,
}

/// `POST /session/unlock`.
#[derive(Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub password: String,
    /// The page that was locked (checked by [`super::session::return_path`]).
    #[serde(default, rename = "return")]
    pub return_to: String,
}

/// `GET /session/locked?return=…`.
#[derive(Deserialize)]
pub struct LockedQuery {
    #[serde(default, rename = "return")]
    pub return_to: String,
}

/// `POST /account/password`.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
}

/// `POST /demo/card/sign` (DEMO only).
#[cfg(feature = "demo")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSignRequest {
    pub account: String,
    pub nonce: String,
    /// §3 in the demo: the card signs only for someone who knows the account's password.
    #[serde(default)]
    pub password: String,
    /// §3 on the enrolment page: instead of a password, which the person does not have yet
    /// (or is replacing), the enrolment code issued for this account.
    #[serde(default)]
    pub enrolment_code: Option<String>,
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(PasswordForm);
