//! A query's result (§6): view-only with its watermark (audited as a view, `no-store` from
//! the middleware, no export and no download), the numbered print for the case file (audited,
//! with the latest signed checkpoint printed on it), and the querier's confirmation that a
//! printed copy of a destroyed result was destroyed.

use axum::extract::Path;
use jiff::Timestamp;
use querywarden_app::execution::{self, ResultContent, ResultView};
use querywarden_app::registration::Denied;
use querywarden_domain::roc_date::RocDate;

use super::input::{PrintForm, PrintsForm, result_path};
use super::record::{Shown, after, show};
use super::views::{ContentTable, ResultPage};
use crate::casework::{Answer, CaseForm, Caseworker, Names, opt};
use crate::i18n::Messages;
use crate::pages::render;

/// A message if the catalogue has one, else the raw text (codes the catalogue does not know
/// are shown as they came).
fn translated(m: &Messages, key: &str, raw: &str) -> String {
    let t = m.get(key);
    if t == key { raw.to_string() } else { t }
}

/// NT$ amounts with thousands separators.
fn with_separators(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// One value of a record as a caseworker reads it: civil dates in the ROC calendar, months as
/// ROC year and month, codes by their Chinese names, yes/no, amounts with separators.
fn cell(m: &Messages, field: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => {
            if s.len() == 10
                && let Ok(d) = RocDate::parse(s)
            {
                return if m.is_zh() {
                    d.format_short()
                } else {
                    d.format_en()
                };
            }
            if s.len() == 7
                && let Ok(d) = RocDate::parse(&format!("{s}-01"))
            {
                return if m.is_zh() {
                    format!("{} 年 {} 月", d.roc_year(), d.month())
                } else {
                    s.clone()
                };
            }
            translated(m, &format!("code-{s}"), s)
        }
        serde_json::Value::Bool(b) => m.get(if *b { "value-yes" } else { "value-no" }),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if matches!(field, "amount" | "insured_salary" | "monthly_wage") => {
                with_separators(i)
            }
            _ => n.to_string(),
        },
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| cell(m, field, x))
            .collect::<Vec<_>>()
            .join(if m.is_zh() { "、" } else { ", " }),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a result holds, in words: 有資料, 查無資料, 查無投保資料, 入口網站文件.
pub(crate) fn result_kind(kind: &str, m: &Messages) -> String {
    translated(m, &format!("result-kind-{kind}"), kind)
}

/// The records as a table: one row per record, one column per field.
pub(crate) fn content_table(content: &ResultContent, m: &Messages) -> ContentTable {
    match content {
        ResultContent::Records(records) => {
            let v = serde_json::to_value(records).unwrap_or_default();
            let rows: Vec<serde_json::Value> = match v.get("records") {
                Some(serde_json::Value::Array(a)) => a.clone(),
                Some(other) => vec![other.clone()],
                None => Vec::new(),
            };
            let mut columns: Vec<String> = Vec::new();
            for r in &rows {
                if let serde_json::Value::Object(o) = r {
                    for k in o.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            ContentTable {
                rows: rows
                    .iter()
                    .map(|r| columns.iter().map(|c| cell(m, c, &r[c.as_str()])).collect())
                    .collect(),
                note: if rows.is_empty() {
                    m.get("result-no-rows")
                } else {
                    String::new()
                },
                columns: columns
                    .iter()
                    .map(|c| translated(m, &format!("field-{c}"), c))
                    .collect(),
            }
        }
        ResultContent::NoData { kind } => ContentTable {
            columns: Vec::new(),
            rows: Vec::new(),
            note: m.with("result-answer", &[("kind", result_kind(kind, m))]),
        },
        ResultContent::Document {
            content_type,
            bytes,
        } => ContentTable {
            columns: Vec::new(),
            rows: Vec::new(),
            note: m.aside(
                &m.get("result-document-kept"),
                &format!("{content_type}{}{} bytes", m.comma(), bytes.len()),
            ),
        },
    }
}

fn result_page(c: &Caseworker, v: &ResultView, names: &Names) -> ResultPage {
    let m = &c.m;
    ResultPage {
        frame: c.frame(format!("/registrations/{}/results/{}", v.no, v.item)),
        no: v.no.to_string(),
        item: v.item.as_str().to_string(),
        item_name: names.item(&v.item),
        received_at: m.datetime(v.received_at),
        subject_name: v.subject_name.clone(),
        subject_id_masked: v.subject_id_masked.clone(),
        // §6: the same watermark the app records, in the page's language (the JSON API
        // keeps the app's Chinese text).
        watermark: {
            let who = &c.who.person;
            let mut w = m.with(
                "result-watermark",
                &[
                    ("viewer", m.staff(&who.name, who.account.as_str())),
                    ("at", m.datetime(v.viewed_at)),
                    ("no", v.no.to_string()),
                ],
            );
            if let Some(n) = v.print_no {
                w.push(' ');
                w.push_str(&m.with("result-print-line", &[("n", n.to_string())]));
            }
            w
        },
        tiles: (0..40).collect(),
        print_no: v.print_no,
        print_line: v
            .print_no
            .map(|n| m.with("result-print-line", &[("n", n.to_string())]))
            .unwrap_or_default(),
        basis: names.basis(&v.legal_basis),
        case_no: v.case_no.clone().unwrap_or_default(),
        approver: v.approved_by.map(|p| names.person(p)).unwrap_or_default(),
        content: content_table(&v.content, m),
        checkpoint: None,
        m: m.clone(),
    }
}

/// Opens a result to view, or (`print`: with the reason beyond the limit) to print.
async fn open_result(
    c: Caseworker,
    no: String,
    item: String,
    print: Option<Option<String>>,
) -> Answer {
    let (no, item) = result_path(&no, &item).ok_or_else(|| c.not_found("/registrations"))?;
    let path = format!("/registrations/{no}");
    let fail = c.fail(&path);
    let desk = c.state.app.desk();
    let now = Timestamp::now();
    let decided = if let Some(reason) = &print {
        execution::print_result(&desk, c.me(), no, &item, reason.as_deref(), now, c.op_id()).await
    } else {
        execution::view_result(&desk, c.me(), no, &item, now, c.op_id()).await
    };
    let v = match decided.map_err(&fail)? {
        Ok(v) => v,
        Err(d) => return Err(c.refused(&path, &d)),
    };
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let mut page = result_page(&c, &v, &names);
    if print.is_some() {
        // Seal the trail up to and including this print, and print the checkpoint.
        page.checkpoint = c.state.app.checkpoint_for_print().await.map_err(&fail)?;
    }
    Ok(render(&page, &c.op))
}

/// §6: the view-only result (audited). No export, no download; `no-store` from the
/// middleware.
pub async fn view_result(c: Caseworker, Path((no, item)): Path<(String, String)>) -> Answer {
    open_result(c, no, item, None).await
}

/// §6: a numbered print for the case file (audited), shown with the print number in the
/// watermark and printed by the browser.
pub async fn print_result(
    Path((no, item)): Path<(String, String)>,
    CaseForm(c, form): CaseForm<PrintForm>,
) -> Answer {
    open_result(c, no, item, Some(opt(&form.reason))).await
}

/// The querier confirms a printed copy of a destroyed result was destroyed.
pub async fn confirm_prints(
    Path((no, item)): Path<(String, String)>,
    CaseForm(c, form): CaseForm<PrintsForm>,
) -> Answer {
    let (no, item) = result_path(&no, &item).ok_or_else(|| c.not_found("/registrations"))?;
    let Some(print_no) = form.print_no() else {
        return show(&c, no, Shown::refusal(&Denied::NotFound)).await;
    };
    let decided = execution::confirm_print_destroyed(
        &c.desk(),
        c.me(),
        no,
        &item,
        print_no,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, "prints").await
}
