//! The registration inbox (待辦) and the Form 2 form: one subject, or a batch CSV (§4, §5).
//! The national ID arrives in the POST body; a refused form comes back with what was typed,
//! the ID only in its field's value (never in the URL, the message, the log or the trail).

use std::collections::BTreeSet;

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::registration::{self as reg, Denied};
use querywarden_domain::org::{PersonId, Role};
use querywarden_domain::registration::may_register;
use querywarden_domain::roc_date::taipei_date;

use super::input::RegisterForm;
use super::views::{
    AlertRow, BasisText, ExpiringRow, RefusalRow, RegInboxPage, RegisterPage, SentRow,
};
use crate::casework::{
    Answer, CaseForm, Caseworker, Choice, Names, basis_choices, date, line_errors, request_row,
    summary_row,
};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::render;
use crate::session::upload_refused;
use crate::templates::FormError;
use crate::upload::{UploadError, read_upload};

pub async fn inbox(c: Caseworker) -> Answer {
    let fail = c.fail("/registrations");
    let inbox = reg::inbox(&c.desk(), c.me(), Timestamp::now())
        .await
        .map_err(&fail)?;
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let m = &c.m;
    let summaries = |list: &[reg::RegistrationSummary]| {
        list.iter().map(|s| summary_row(s, &names, m)).collect()
    };
    let requests =
        |list: &[reg::QueryRequestRow]| list.iter().map(|r| request_row(r, &names, m)).collect();
    let page = RegInboxPage {
        frame: c.frame("/registrations"),
        can_register: may_register(c.me()),
        can_request: c.who.person.has_role(Role::ExternalRequester),
        to_approve: summaries(&inbox.to_approve),
        to_execute: summaries(&inbox.to_execute),
        expiring: inbox
            .results_expiring
            .iter()
            .map(|e| ExpiringRow {
                no: e.no.to_string(),
                item: names.item(&e.item),
                destroy_after: date(e.destroy_after, m),
            })
            .collect(),
        sent_without_result: inbox
            .sent_without_result
            .iter()
            .map(|s| SentRow {
                no: s.no.to_string(),
                item: names.item(&s.item),
                sent_at: m.datetime(s.sent_at),
            })
            .collect(),
        requests_to_review: requests(&inbox.requests_to_review),
        requests_to_sign: requests(&inbox.requests_to_sign),
        is_ethics_auditor: c.who.person.has_role(Role::EthicsAuditor),
        ethics_alerts: inbox
            .ethics_alerts
            .iter()
            .map(|a| alert_row(a, m))
            .collect(),
        refusals: inbox
            .refusals
            .iter()
            .filter_map(|n| refusal_row(n, m))
            .collect(),
        m: c.m.clone(),
    };
    Ok(render(&page, &c.op))
}

fn alert_row(a: &reg::EthicsAlert, m: &Messages) -> AlertRow {
    let rule = |r: &querywarden_domain::snooping::SnoopingRule| {
        let key = r.code().replace("snooping.", "snooping-rule-");
        m.aside(&m.get(&key), r.code())
    };
    AlertRow {
        no: a.no.to_string(),
        rules: a
            .rules
            .iter()
            .map(rule)
            .collect::<Vec<_>>()
            .join(if m.is_zh() { "、" } else { "; " }),
        at: m.datetime(a.at),
        subject_id_masked: a.subject_id_masked.clone(),
    }
}

/// A refusal notice links to the refused form: a registration or a Form 3 request.
fn refusal_row(n: &reg::NoticeRow, m: &Messages) -> Option<RefusalRow> {
    let (href, no) = match n.object.split_once(':')? {
        ("registration", no) => (format!("/registrations/{no}"), no),
        ("request", no) => (format!("/requests/{no}"), no),
        _ => return None,
    };
    Some(RefusalRow {
        id: n.id,
        href,
        no: no.to_string(),
        at: m.datetime(n.created_at),
    })
}

/// Builds the registration form: items held today by the queriers of the filer's unit, the
/// catalogue's legal bases, the unit's queriers and colleagues.
async fn register_page(
    c: &Caseworker,
    posted: Option<&RegisterForm>,
    batch: bool,
) -> Result<RegisterPage, Response> {
    let path = if batch {
        "/registrations/batch"
    } else {
        "/registrations/new"
    };
    let fail = c.fail(path);
    let me = c.me();
    let names = Names::load(&c.state, me, &c.m).await.map_err(&fail)?;
    let choices = reg::register_choices(&c.desk(), me, taipei_date(Timestamp::now()))
        .await
        .map_err(&fail)?;
    let chosen_items: BTreeSet<&str> = posted
        .map(|p| p.items.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let picked = |v: &str, id: PersonId| v == id.get().to_string();
    let person_choice = |id: PersonId, selected: bool| Choice {
        value: id.get().to_string(),
        label: names.person(id),
        selected,
    };
    let text = |f: fn(&RegisterForm) -> &String| posted.map(|p| f(p).clone()).unwrap_or_default();
    Ok(RegisterPage {
        frame: c.frame(path),
        error: None,
        line_errors: Vec::new(),
        batch,
        subject_name: text(|p| &p.subject_name),
        subject_id: text(|p| &p.subject_id),
        linked_id: text(|p| &p.linked_id),
        relevance: text(|p| &p.relevance),
        case_no: text(|p| &p.case_no),
        no_case_reason: text(|p| &p.no_case_reason),
        companion_bases: basis_choices(&names, posted.map(|p| p.companion_basis.as_str()), false),
        items: choices
            .held_items
            .iter()
            .map(|i| Choice {
                value: i.as_str().to_string(),
                label: names.item(i),
                selected: chosen_items.contains(i.as_str()),
            })
            .collect(),
        bases: basis_choices(&names, posted.map(|p| p.legal_basis.as_str()), true),
        // §5: what each legal basis allows, one click away from the choice.
        basis_texts: names
            .bases
            .iter()
            .filter(|b| b.active)
            .map(|b| BasisText {
                citation: format!("{} {}", b.law, b.article),
                summary: b.summary_zh.clone(),
                programmes: b.programmes.join("、"),
            })
            .collect(),
        queriers: choices
            .colleagues
            .iter()
            .filter(|p| p.has_role(Role::Querier))
            .map(|p| {
                person_choice(
                    p.id,
                    match posted {
                        Some(x) => picked(&x.querier, p.id),
                        // The querier filing for themself is the default.
                        None => me.has_role(Role::Querier) && p.id == me.id,
                    },
                )
            })
            .collect(),
        needers: choices
            .colleagues
            .iter()
            .map(|p| {
                person_choice(
                    p.id,
                    match posted {
                        Some(x) if !x.needer.is_empty() => picked(&x.needer, p.id),
                        _ => p.id == me.id,
                    },
                )
            })
            .collect(),
        m: c.m.clone(),
    })
}

/// The form again with a refusal on it, with the refusal's status.
async fn form_again(
    c: &Caseworker,
    posted: &RegisterForm,
    batch: bool,
    status: StatusCode,
    (line_errors, error): (Vec<String>, FormError),
) -> Answer {
    let mut page = register_page(c, Some(posted), batch).await?;
    page.line_errors = line_errors;
    page.error = Some(error);
    Ok((status, render(&page, &c.op)).into_response())
}

/// §5: one who may not file Form 2 gets the refusal (audited) and no form.
async fn form_or_refusal(c: Caseworker, batch: bool) -> Answer {
    let path = if batch {
        "/registrations/batch"
    } else {
        "/registrations/new"
    };
    if !may_register(c.me()) {
        if let Some(e) =
            upload_refused(&c.state, &c.who, "registration.not_allowed", c.op_id()).await
        {
            return Err(e.into_response());
        }
        return Err(c.forbidden(path));
    }
    let page = register_page(&c, None, batch).await?;
    Ok(render(&page, &c.op))
}

pub async fn register_form(c: Caseworker) -> Answer {
    form_or_refusal(c, false).await
}

pub async fn batch_form(c: Caseworker) -> Answer {
    form_or_refusal(c, true).await
}

/// A refused registration: the refusal page for one who may not file Form 2 (§5), else the
/// form again with the refusal (and a batch's errors by line).
async fn refused(c: &Caseworker, posted: &RegisterForm, batch: bool, d: &Denied) -> Answer {
    if !may_register(c.me()) {
        let path = if batch {
            "/registrations/batch"
        } else {
            "/registrations/new"
        };
        return Err(c.refused(path, d));
    }
    let errors = line_errors(d, &c.m, "refusal-batch-line", "refusal-batch-rows");
    form_again(c, posted, batch, crate::casework::denied_status(d), errors).await
}

/// Files one Form 2 row. The national ID arrives in the POST body; a refusal shows the form
/// again with it in its field only.
pub async fn register_submit(CaseForm(c, posted): CaseForm<RegisterForm>) -> Answer {
    let decided = reg::register(
        &c.desk(),
        c.me(),
        &posted.request(),
        Timestamp::now(),
        c.op_id(),
    )
    .await
    .map_err(c.fail("/registrations/new"))?;
    match decided {
        Ok(r) => {
            Ok(Redirect::to(&format!("/registrations/{}?notice=registered", r.no)).into_response())
        }
        Err(d) => refused(&c, &posted, false, &d).await,
    }
}

/// The largest batch CSV accepted.
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Batch registration: the shared fields plus a UTF-8 CSV (`姓名,身分證統一編號[,舊／新統一證號]`);
/// errors are reported by line and nothing is registered unless every line is right.
pub async fn batch_upload(c: Caseworker, mut multipart: Multipart) -> Answer {
    let path = "/registrations/batch";
    let page_error = |status, message| {
        PageError {
            status,
            message,
            operation_id: c.op.0.clone(),
            messages: c.m.clone(),
            path: path.into(),
        }
        .into_response()
    };
    let upload = match read_upload(&mut multipart, "file", MAX_BATCH_BYTES).await {
        Ok(u) => u,
        // Too large is 413, not "malformed".
        Err(UploadError::TooLarge) => {
            let message: String = if c.m.is_zh() {
                "檔案過大，請分批上傳".into()
            } else {
                "The file is too large; upload it in parts".into()
            };
            return Err(page_error(StatusCode::PAYLOAD_TOO_LARGE, message));
        }
        Err(UploadError::Malformed) => {
            return Err(page_error(
                StatusCode::BAD_REQUEST,
                c.m.get("reg-batch-malformed"),
            ));
        }
    };
    let posted = RegisterForm::from_fields(&upload.fields);
    c.check_csrf(&posted.csrf).await?;
    let text = upload.file.and_then(|b| String::from_utf8(b).ok());
    let Some(text) = text else {
        let error = FormError {
            code: "registration.batch_format".into(),
            message: c.m.get("reg-batch-malformed"),
        };
        return form_again(
            &c,
            &posted,
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
            (Vec::new(), error),
        )
        .await;
    };
    let decided = reg::register_batch(
        &c.desk(),
        c.me(),
        &posted.batch(text),
        Timestamp::now(),
        c.op_id(),
    )
    .await
    .map_err(c.fail(path))?;
    match decided {
        Ok(_) => Ok(Redirect::to("/registrations?notice=batch").into_response()),
        Err(d) => refused(&c, &posted, true, &d).await,
    }
}
