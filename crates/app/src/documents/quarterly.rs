//! The §7 quarterly review report to 勞工局, built from a closed review: counts per item and
//! unit, the reconciliation, each finding with its conclusion, the violation cases and the
//! latest signed checkpoint. Only the reviewers (and the director) may have it.

use std::collections::BTreeMap;

use querywarden_documents::{self as docs, DocumentModel};
use querywarden_domain::org::{Person, PersonId, Role};
use querywarden_domain::oversight::review::{FindingRule, ReviewerDesk};
use querywarden_domain::oversight::violation::CaseState;
use querywarden_domain::permission::recertification::Quarter;
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime, taipei_date};
use querywarden_storage::FindingRow;

use super::{DocumentError, Org, Refusal, refusal};
use crate::{App, AppError};

pub(super) async fn build(
    app: &App,
    viewer: &Person,
    q: Quarter,
) -> Result<DocumentModel, Refusal> {
    let store = app.store();
    let roles: Vec<Role> = viewer.roles.iter().copied().collect();
    if ReviewerDesk::for_person(viewer.id, &roles).is_err() && !viewer.has_role(Role::Director) {
        return Err(refusal("review.not_reviewer", DocumentError::NotFound));
    }
    let quarter = q.to_string();
    let Some(review) = store
        .reviews()
        .await?
        .into_iter()
        .find(|r| r.quarter == quarter)
    else {
        return Err(refusal(
            "documents.quarter_not_closed",
            DocumentError::QuarterNotClosed,
        ));
    };
    let (Some(report), Some(closed_at)) = (&review.report, review.closed_at) else {
        return Err(refusal(
            "documents.quarter_not_closed",
            DocumentError::QuarterNotClosed,
        ));
    };
    let report: serde_json::Value =
        serde_json::from_str(report).map_err(|e| AppError::unreadable("review report", e))?;
    let org = Org::load(store).await?;
    let stats = &report["statistics"];
    let (item_counts, unit_counts) = counts(&org, stats);
    let n = |k: &str| stats[k].as_u64().unwrap_or(0);
    let reconciliation = format!(
        "勞保局使用紀錄 {} 筆，本系統查調執行 {} 筆，逐筆相符 {} 筆；未能對應者列為檢查發現（見第四點）。",
        n("usage_records"),
        n("executions"),
        n("matched")
    );
    let findings_rows = store.findings_of(review.id).await?;
    let (findings, violations) = findings_of(app, &org, &findings_rows).await?;
    let explained = report["explained"].as_u64().unwrap_or(0);
    let violation_count = report["violations"].as_u64().unwrap_or(0);
    let conclusion = if violation_count == 0 {
        format!(
            "本季檢查發現 {} 件，均已說明結案，未發現違反本要點之情事。",
            findings_rows.len()
        )
    } else {
        format!(
            "本季檢查發現 {} 件，其中 {} 件已說明，{} 件認定違規並依要點第八點要求改正及提具檢討報告。",
            findings_rows.len(),
            explained,
            violation_count
        )
    };
    let checkpoint = checkpoint(app).await?;
    let from = RocDate::from_civil(review.period_from)
        .map_err(|e| AppError::unreadable("review period", e))?;
    let to = RocDate::from_civil(review.period_to)
        .map_err(|e| AppError::unreadable("review period", e))?;
    Ok(DocumentModel::Quarterly(docs::QuarterlyReport {
        quarter: format!("民國 {}", q.name_zh()),
        period: format!("{}至{}", from.format_long(), to.format_long()),
        reviewer: review
            .closed_by
            .map(|p| format!("{}（權限管理者）", org.name(p)))
            .unwrap_or_default(),
        reviewed_at: format_taipei_datetime(closed_at),
        item_counts,
        unit_counts,
        reconciliation,
        findings,
        violations,
        conclusion,
        checkpoint,
    }))
}

/// Queries per service item and per unit, largest first.
fn counts(org: &Org, stats: &serde_json::Value) -> (Vec<docs::CountRow>, Vec<docs::CountRow>) {
    let mut item_counts: Vec<docs::CountRow> = stats["per_item"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| docs::CountRow {
                    name: org.item(k, true),
                    count: v.as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    item_counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    let mut per_unit: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(m) = stats["per_person"].as_object() {
        for (k, v) in m {
            let unit = k
                .parse::<i64>()
                .ok()
                .and_then(|id| org.persons.get(&PersonId::new(id)))
                .map_or_else(|| "（不明）".to_string(), |p| org.unit_name(&p.unit));
            *per_unit.entry(unit).or_default() += v.as_u64().unwrap_or(0);
        }
    }
    let mut unit_counts: Vec<docs::CountRow> = per_unit
        .into_iter()
        .map(|(name, count)| docs::CountRow { name, count })
        .collect();
    unit_counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    (item_counts, unit_counts)
}

/// Each finding with its conclusion, and the violation cases they opened with their state.
async fn findings_of(
    app: &App,
    org: &Org,
    findings_rows: &[FindingRow],
) -> Result<(Vec<docs::ReportFinding>, Vec<docs::ReportViolation>), Refusal> {
    let store = app.store();
    let mut findings = Vec::new();
    let mut violations = Vec::new();
    for f in findings_rows {
        let rule = FindingRule::parse_code(&f.finding.rule)
            .map_or_else(|| f.finding.rule.clone(), |r| r.name_zh().to_string());
        let who = f
            .finding
            .person
            .map(|p| format!("（{}）", org.name(p)))
            .unwrap_or_default();
        let at = f
            .finding
            .at
            .map(|t| format!(" {}", taipei_date(t).format_short()))
            .unwrap_or_default();
        let conclusion = match (f.conclusion.as_deref(), f.violation_id) {
            (Some("violation"), Some(v)) => format!("違規，已立案（案件 {v}）"),
            (Some(_), _) => format!("已說明：{}", f.note.clone().unwrap_or_default()),
            (None, _) => "未結".to_string(),
        };
        findings.push(docs::ReportFinding {
            finding: format!("{rule}{who}{at}"),
            conclusion,
        });
        if let Some(v) = f.violation_id
            && let Some(case) = store.violation(v).await?
        {
            violations.push(docs::ReportViolation {
                case: format!(
                    "案件 {v}：{}（{}）",
                    org.name(case.case.person),
                    case.case.rule
                ),
                status: CaseState::parse_code(&case.state)
                    .map_or_else(|| case.state.clone(), |s| s.name_zh().to_string()),
            });
        }
    }
    Ok((findings, violations))
}

/// The latest signed checkpoint, as the recipient needs it to verify.
async fn checkpoint(app: &App) -> Result<Option<docs::CheckpointInfo>, Refusal> {
    Ok(app.store().latest_checkpoint().await?.map(|c| {
        let (key, sig) = signature_of(&c.note);
        docs::CheckpointInfo {
            tree_size: c.size,
            root_hash: hex::encode(c.root),
            key_id: if key.is_empty() {
                c.key_name.clone()
            } else {
                key
            },
            signature: sig,
            signed_at: c.created_at.clone(),
        }
    }))
}

/// The key name and base64 signature of a signed note's first signature line
/// (`— <name> <base64>`).
fn signature_of(note: &str) -> (String, String) {
    note.lines()
        .find_map(|l| l.strip_prefix("— "))
        .and_then(|l| l.split_once(' '))
        .map(|(k, s)| (k.to_string(), s.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_line_of_a_note_is_found() {
        let note = "origin\n5\nabc=\n\n— qw-2026 AAAAsig==\n";
        assert_eq!(
            signature_of(note),
            ("qw-2026".to_string(), "AAAAsig==".to_string())
        );
        assert_eq!(signature_of("no signature"), (String::new(), String::new()));
    }
}
