//! The reply letter to a citizen's access request (當事人查詢個人資料答復書; 個人資料保護法 §3,
//! §10, §13): the decision and the list of what the bureau did with the citizen's data.
//!
//! Security-sensitive. The letter is built from the same use case as the officer's report
//! (`citizen_report::produce_report`: the contact officer only, audited, §10 withholding
//! applied), so it lists exactly what the report lists — never result data, never a withheld
//! entry, and not how many were withheld. The citizen's ID appears only masked, in the body.

use base64::Engine;
use querywarden_documents::{self as docs, DocumentModel, Seal};
use querywarden_domain::org::Person;
use querywarden_domain::roc_date::{format_taipei_datetime, taipei_date};

use super::{DocumentError, Refusal, refusal};
use crate::App;
use crate::citizen_report::{self, CitizenRequestNo, ReportEntry, Stamp};
use crate::permission::Op;

/// `succeeded`, `refused:<rule>`, `failed:<code>` in the letter's words, keeping the code.
fn outcome_zh(outcome: &str) -> String {
    let word = |k: &str| {
        match k {
            "succeeded" => "完成",
            "refused" => "拒絕",
            "failed" => "失敗",
            other => other,
        }
        .to_string()
    };
    match outcome.split_once(':') {
        Some((kind, code)) => format!("{}（{code}）", word(kind)),
        None => word(outcome),
    }
}

fn entry(e: &ReportEntry) -> docs::LetterEntry {
    let mut basis = e.legal_basis.clone().unwrap_or_default();
    if let Some(case) = &e.case_no {
        basis.push_str(&format!("（{case}）"));
    }
    docs::LetterEntry {
        seq: e.seq,
        at: e.at.clone(),
        // The record's number (registration or Form 3 request) under what was done, so the
        // citizen can cite it; `object` is `registration 115-000012`.
        what: match e.object.split_once(' ') {
            Some((_, no)) => format!("{}\n{no}", e.kind.name_zh()),
            None => e.kind.name_zh().to_string(),
        },
        by: match &e.staff {
            Some(name) => format!("{}　{name}", e.unit),
            None => e.unit.clone(),
        },
        basis,
        items: e.items.join("、"),
        outcome: outcome_zh(&e.outcome),
    }
}

/// The root hash of a signed note (`origin`, size, base64 root, …) in hex, as the quarterly
/// report prints it.
fn root_hex(note: &str) -> String {
    note.lines()
        .nth(2)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(hex::encode)
        .unwrap_or_default()
}

pub(super) async fn build(
    app: &App,
    viewer: &Person,
    no: &CitizenRequestNo,
    op: &Op,
) -> Result<DocumentModel, Refusal> {
    let stamp = Stamp {
        now: op.now,
        request_id: &op.request_id,
    };
    let report = match citizen_report::produce_report(
        app.store(),
        app.keys(),
        &app.config().audit,
        viewer,
        no.as_str(),
        app.config().citizen_report.staff_shown(),
        stamp,
    )
    .await?
    {
        Ok(r) => r,
        // Refused (and audited) by the report's use case; the document answers alike.
        Err(r) => return Err(refusal(r.code(), DocumentError::NotFound)),
    };
    let Some(row) = app.store().citizen_request(no.as_str()).await? else {
        return Err(refusal(
            "citizen_report.unknown_request",
            DocumentError::NotFound,
        ));
    };
    Ok(DocumentModel::CitizenLetter(docs::CitizenReplyLetter {
        request_no: report.request_no.clone(),
        letter_date: taipei_date(op.now).format_long(),
        received_on: row.received_on.format_long(),
        due_on: row.due_on.format_long(),
        subject_id: report.subject_masked.clone(),
        asked: row.asked.clone(),
        entries: report.entries.iter().map(entry).collect(),
        tree_size: report.appendix.tree_size,
        root_hash: root_hex(&report.appendix.checkpoint),
        officer: Some(Seal {
            name: viewer.name.clone(),
            role: "個人資料保護聯絡窗口".into(),
            at: format_taipei_datetime(op.now),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_in_words_with_their_code() {
        assert_eq!(outcome_zh("succeeded"), "完成");
        assert_eq!(
            outcome_zh("refused:registration.not_approved"),
            "拒絕（registration.not_approved）"
        );
    }

    #[test]
    fn the_root_of_a_note_prints_in_hex() {
        let note = "origin\n5\nAAEC\n\n— k sig\n";
        assert_eq!(root_hex(note), "000102");
    }
}
