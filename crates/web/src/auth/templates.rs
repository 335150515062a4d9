//! The sign-in, lock and password pages' view models (templates `login.html`, `locked.html`,
//! `password.html`).

use askama::Template;

use crate::i18n::Messages;
use crate::templates::{FormError, Frame, UserBar};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub m: Messages,
    pub frame: Frame,
    pub demo: bool,
    /// Mutual-TLS sign-in: the card comes with the connection, so the page asks only for
    /// account and password (no card signer, no nonce).
    pub mutual_tls: bool,
    pub account: String,
    pub error: Option<FormError>,
}

impl LoginPage {
    pub fn new(m: Messages, demo: bool, account: String, error: Option<FormError>) -> Self {
        Self {
            frame: Frame::signed_out(&m, "/login"),
            m,
            demo,
            mutual_tls: false,
            account,
            error,
        }
    }

    /// The page for the mutual-TLS mode (see [`LoginPage::mutual_tls`]).
    pub fn with_mutual_tls(mut self, on: bool) -> Self {
        self.mutual_tls = on;
        if on {
            self.demo = false;
        }
        self
    }
}

/// The lock screen: no data at all, only the unlock form.
#[derive(Template)]
#[template(path = "locked.html")]
pub struct LockedPage {
    pub m: Messages,
    pub frame: Frame,
    pub error: Option<FormError>,
    /// The page that was locked, where unlocking returns (empty: home).
    pub return_to: String,
}

impl LockedPage {
    pub fn new(m: Messages, csrf: String, error: Option<FormError>) -> Self {
        Self {
            // Locked: no bar (the page shows nothing of the person), but the unlock form's token.
            frame: Frame {
                csrf,
                ..Frame::signed_out(&m, "/session/locked")
            },
            m,
            error,
            return_to: String::new(),
        }
    }

    /// Unlocking returns to `path` when it is a page of this site.
    pub fn returning_to(mut self, path: &str) -> Self {
        self.return_to = super::session::return_path(path)
            .unwrap_or_default()
            .to_string();
        self
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub m: Messages,
    pub frame: Frame,
    pub must_change: bool,
    pub done: bool,
    pub error: Option<FormError>,
}

impl PasswordPage {
    pub fn new(
        m: Messages,
        user: UserBar,
        must_change: bool,
        done: bool,
        error: Option<FormError>,
    ) -> Self {
        let _csrf = user.csrf.clone();
        Self {
            frame: Frame::of(&m, Some(user), "/account/password"),
            m,
            must_change,
            done,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "account_mail.html")]
pub struct MailPage {
    pub m: Messages,
    pub frame: Frame,
    /// Whether the server sends mail at all (`[mail] enabled`).
    pub enabled: bool,
    pub address: String,
    /// `none` or `daily`.
    pub digest: String,
    pub done: bool,
    pub error: Option<FormError>,
}

impl MailPage {
    pub fn new(
        m: Messages,
        user: UserBar,
        enabled: bool,
        address: String,
        digest: &str,
        done: bool,
        error: Option<FormError>,
    ) -> Self {
        let _csrf = user.csrf.clone();
        Self {
            frame: Frame::of(&m, Some(user), "/account/mail"),
            m,
            enabled,
            address,
            digest: digest.to_string(),
            done,
            error,
        }
    }

    /// Shows `digest` chosen (what the person submitted), when it is one of the choices.
    pub fn choosing(mut self, digest: &str) -> Self {
        if matches!(digest, "none" | "daily") {
            self.digest = digest.to_string();
        }
        self
    }
}
