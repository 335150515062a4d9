//! Typed input shared by every area: posted page forms are deserialized with serde into each
//! area's own input struct (repeated keys such as `items` included), and the session's CSRF
//! token is checked — and a mismatch refused and audited (§3) — before any handler runs.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use querywarden_app::auth::SignedIn;
use serde::de::DeserializeOwned;

use crate::session::{PageSession, csrf_refused};
use crate::{AppState, OperationId};

/// An input struct of a posted page form that carries the session's CSRF token in the
/// `csrf` field.
pub trait CarriesCsrf {
    fn csrf(&self) -> &str;
}

/// Names the input structs whose `csrf` field carries the session's CSRF token, for
/// [`CsrfForm`]: `carries_csrf!(RecordForm, ExtendForm)`.
macro_rules! carries_csrf {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::input::CarriesCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use carries_csrf;

/// A posted page form from a signed-in, unlocked person whose CSRF token matched:
/// `CsrfForm(who, input)`. Anyone not signed in is sent to sign in (as [`PageSession`]);
/// a body that does not parse is answered by the common rejection handling; a wrong token
/// is refused and audited here, once for every form.
pub struct CsrfForm<T>(pub SignedIn, pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CarriesCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let PageSession(who) = PageSession::from_request_parts(&mut parts, state).await?;
        let op = OperationId::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let req = Request::from_parts(parts, body);
        let axum_extra::extract::Form(input) =
            axum_extra::extract::Form::<T>::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
        if !who.csrf_ok(input.csrf()) {
            return Err(csrf_refused(state, &who, &op.0).await.into_response());
        }
        Ok(CsrfForm(who, input))
    }
}

/// The input of a posted form that carries nothing but the CSRF token (approve, cancel,
/// read a notice …).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    pub csrf: String,
}

carries_csrf!(TokenOnly);
