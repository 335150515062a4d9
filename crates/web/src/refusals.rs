//! Refusals of registrations, requests and queries (§4, §5) in the reader's language, each
//! saying what to do next. The page and the JSON API use the same text for the same stable
//! code; the code itself goes to the API body and the log, not under the message on a page.
//!
//! The sentences live in the catalogues (`refusal-<code>`); where the domain's Chinese sentence
//! carries a figure the catalogue's cannot (a count, a state), the Chinese page keeps the
//! domain's sentence. A code the catalogues do not know yet shows the domain's sentence.

use querywarden_app::registration::Denied;
use querywarden_domain::policy::Refusal;
use querywarden_domain::registration::RegistrationError;

use crate::i18n::{Catalogue, Locale, Messages};

/// The messages of `locale`, for a caller that has no request language (the JSON API answers
/// in both).
pub(crate) fn messages(locale: Locale) -> Option<Messages> {
    Catalogue::get().ok().map(|c| Messages::new(c, locale))
}

/// The catalogue's sentence for `code`, or `fallback` when there is none.
fn by_code(m: &Messages, code: &str, fallback: impl FnOnce() -> String) -> String {
    let key = format!("refusal-{}", code.replace('.', "-"));
    let text = m.get(&key);
    if text == key { fallback() } else { text }
}

/// A registration rule's refusal in the page's language.
pub(crate) fn registration_error(e: &RegistrationError, m: &Messages) -> String {
    match e {
        RegistrationError::SubjectId(why) => {
            let detail = m.explain(why);
            format!("{} {detail}", by_code(m, e.code(), || e.to_string()))
        }
        RegistrationError::ItemNotGranted(item) => m.with(
            "refusal-item",
            &[
                ("item", item.as_str().to_string()),
                ("message", by_code(m, e.code(), || e.to_string())),
            ],
        ),
        // The Chinese sentence names the figure (a count, a state, a field).
        RegistrationError::SubjectCount { .. }
        | RegistrationError::RelevanceTooLong(_)
        | RegistrationError::WrongState(_)
        | RegistrationError::Contact(_)
            if m.is_zh() =>
        {
            e.to_string()
        }
        _ => by_code(m, e.code(), || e.to_string()),
    }
}

/// A use case's refusal in the page's language.
pub(crate) fn denied(d: &Denied, m: &Messages) -> String {
    match d {
        Denied::Registration(e) => registration_error(e, m),
        Denied::Policy(
            Refusal::ItemNotRegistered(item)
            | Refusal::AlreadyExecuted(item)
            | Refusal::NoActiveGrant(item),
        )
        | Denied::NotConnectable(item) => m.with(
            "refusal-item",
            &[
                ("item", item.as_str().to_string()),
                ("message", by_code(m, d.code(), || d.message_zh())),
            ],
        ),
        Denied::Policy(Refusal::NotApproved(_)) if m.is_zh() => d.message_zh(),
        Denied::Batch(lines) => {
            let head = m.with("refusal-batch-rows", &[("count", lines.len().to_string())]);
            let detail: Vec<String> = lines
                .iter()
                .map(|l| {
                    m.with(
                        "refusal-batch-line",
                        &[
                            ("line", l.line.to_string()),
                            ("error", registration_error(&l.error, m)),
                        ],
                    )
                })
                .collect();
            format!(
                "{head} {}",
                detail.join(if m.is_zh() { "；" } else { "; " })
            )
        }
        Denied::BatchLineFormat { line, .. } => m.with(
            "refusal-batch-line",
            &[
                ("line", line.to_string()),
                ("error", by_code(m, d.code(), || d.message_zh())),
            ],
        ),
        _ => by_code(m, d.code(), || d.message_zh()),
    }
}

/// [`denied`] in both languages, for the JSON API's error body.
pub(crate) fn denied_both(d: &Denied) -> (String, String) {
    let zh = messages(Locale::ZhTw).map_or_else(|| d.message_zh(), |m| denied(d, &m));
    let en =
        messages(Locale::En).map_or_else(|| d.code().replace(['.', '_'], " "), |m| denied(d, &m));
    (zh, en)
}
