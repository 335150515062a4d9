//! Import of the BLI platform's usage records (§7): validated row by row, all or nothing,
//! idempotent by the platform's record id. Subjects are stored as HMACs only.

use std::collections::HashMap;

use jiff::Timestamp;
use querywarden_bli::usage_log::{ColumnMapping, RowError, parse_csv};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::PersonId;
use querywarden_storage::{PlatformUsageRow, Store};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::keys::KeyRing;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageImportReport {
    pub rows: u64,
    pub added: u64,
    /// Rows already imported before (same platform record id).
    pub already_present: u64,
    /// Queries whose outcome was unknown (timed out) that the imported rows resolved (§5).
    pub resolved: u64,
}

/// Imports a usage-log export. The inner `Err` lists every bad row (nothing was imported).
pub async fn import(
    store: &Store,
    keys: &KeyRing,
    mapping: &ColumnMapping,
    actor: Option<Actor>,
    text: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<UsageImportReport, Vec<RowError>>, AppError> {
    let file_sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let mut event = AuditEvent::system(now, AuditAction::UsageLogImported, request_id)
        .on("usage_log", &file_sha256[..16]);
    event.actor = actor;
    let records = match parse_csv(text, mapping) {
        Ok(r) => r,
        Err(errors) => {
            crate::audit::record_refusal(
                store,
                event.detail("bad_rows", errors.len()),
                "usage_log.bad_rows",
            )
            .await?;
            return Ok(Err(errors));
        }
    };
    let rows: Vec<PlatformUsageRow> = records
        .iter()
        .map(|r| {
            let d = keys.subject_digest(&r.subject);
            PlatformUsageRow {
                platform_record_id: r.platform_record_id.clone(),
                at: r.at.to_string(),
                agency_code: r.agency_code.clone(),
                operator_account: r.operator_account.clone(),
                item: r.item.code().to_string(),
                subject_hmac: d.hex,
                hmac_key_id: d.key_id,
                subject_masked: r.subject.masked(),
                request_id: r.request_id.clone(),
                outcome: r.outcome.clone(),
            }
        })
        .collect();
    // §4 with §7: a subject who is a member of staff is recognised here, while the ID is in
    // hand, under every HMAC key the keyring holds — Form 1 keeps the applicant's ID only as
    // a digest under the key of its day, and these rows are digested under today's key, so
    // after a key rotation the two digests never meet again.
    let staff: HashMap<(String, String), Vec<PersonId>> = {
        let mut m: HashMap<(String, String), Vec<PersonId>> = HashMap::new();
        for (key_id, hex, person) in store.applicant_digests().await? {
            m.entry((key_id, hex)).or_default().push(person);
        }
        m
    };
    let mut staff_links: Vec<(&str, PersonId)> = Vec::new();
    if !staff.is_empty() {
        for r in &records {
            for d in keys.subject_digests_all(&r.subject) {
                if let Some(people) = staff.get(&(d.key_id, d.hex)) {
                    for p in people {
                        if !staff_links.contains(&(r.platform_record_id.as_str(), *p)) {
                            staff_links.push((r.platform_record_id.as_str(), *p));
                        }
                    }
                }
            }
        }
    }
    let total = rows.len() as u64;
    let mut tx = store.begin().await?;
    let import_id = tx
        .insert_usage_import(
            &now.to_string(),
            actor.map(|a| a.person.get()),
            &file_sha256,
            total,
        )
        .await?;
    let added = tx.insert_usage_rows(import_id, &rows).await?;
    for (record, person) in &staff_links {
        tx.link_usage_staff_subject(record, *person).await?;
    }
    if added == 0 {
        // Nothing new: leave no import row behind, only the audit record of the attempt.
        drop(tx);
        tx = store.begin().await?;
    }
    tx.append_audit(
        &event
            .detail("rows", total)
            .detail("added", added)
            .detail("already_present", total - added),
    )
    .await?;
    tx.commit().await?;
    // §5: the platform saw these attempts, so their outcome is no longer unknown.
    let resolved = if added > 0 {
        crate::execution::outcome::resolve_from_usage_log(store, now, request_id).await? as u64
    } else {
        0
    };
    Ok(Ok(UsageImportReport {
        rows: total,
        added,
        already_present: total - added,
        resolved,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::simulator_usage_csv;
    use querywarden_bli::BliItem;
    use querywarden_domain::NationalId;

    /// The simulator's export after `n` queries over three subjects and every item.
    async fn simulator_export(n: usize) -> String {
        simulator_usage_csv(
            &["A123456789", "F131104093", "E123456783"],
            &BliItem::ALL,
            n,
        )
        .await
    }

    fn keys(dir: &std::path::Path) -> KeyRing {
        KeyRing::open_or_create(dir, Timestamp::now()).unwrap()
    }

    /// `csv` imported with the default columns, by the system, now.
    async fn import_now(
        store: &Store,
        keys: &KeyRing,
        csv: &str,
        request_id: &str,
    ) -> Result<UsageImportReport, Vec<RowError>> {
        let mapping = ColumnMapping::default();
        let now = Timestamp::now();
        import(store, keys, &mapping, None, csv, now, request_id)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_simulators_export_imports_once_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().await.unwrap();
        let keys = keys(dir.path());
        let csv = simulator_export(7).await;
        let first = import_now(&store, &keys, &csv, "r1").await.unwrap();
        assert_eq!(
            first,
            UsageImportReport {
                rows: 7,
                added: 7,
                already_present: 0,
                resolved: 0
            }
        );
        let again = import_now(&store, &keys, &csv, "r2").await.unwrap();
        assert_eq!(
            again,
            UsageImportReport {
                rows: 7,
                added: 0,
                already_present: 7,
                resolved: 0
            }
        );
        assert_eq!(store.usage_record_count().await.unwrap(), 7);
        // Stored by HMAC: the auditor finds a subject's platform records by computing it.
        let a = keys.subject_digest(&NationalId::parse("A123456789").unwrap());
        let rows = store.usage_records_for_subject(&a.hex).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.subject_masked == "A12****789"));
    }

    /// A valid national ID `A2nnnnnnnC` for `n`.
    fn national_id(n: u32) -> String {
        (0..10)
            .map(|c| format!("A2{n:07}{c}"))
            .find(|s| NationalId::parse(s).is_ok())
            .unwrap()
    }

    #[tokio::test]
    async fn a_hundred_thousand_rows_import_in_batches_once_and_only_once() {
        // §7: a quarter's export of the platform's usage log, generated; imported in bounded
        // batches inside one transaction, and a second import of the same file adds nothing.
        const N: u32 = 100_000;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_temporary().await.unwrap();
        let keys = keys(dir.path());
        let items = ["C0101", "B0101", "N0101", "B0201"];
        let t0 = Timestamp::from_second(1_767_225_600).unwrap();
        let mut csv = String::from(
            "record_id,at,agency_code,operator_account,item,subject_id,request_id,outcome\n",
        );
        for i in 0..N {
            let at = t0 + jiff::SignedDuration::from_secs(i64::from(i) * 7);
            csv.push_str(&format!(
                "PLAT-{i:08},{at},KSSA0001,querier{},{},{},,ok\n",
                i % 50,
                items[(i % 4) as usize],
                national_id(i % 20_000)
            ));
        }
        let run = |text: String, request: &'static str| {
            let (store, keys) = (&store, &keys);
            async move {
                let mapping = ColumnMapping::default();
                let r = import(store, keys, &mapping, None, &text, t0, request)
                    .await
                    .unwrap()
                    .unwrap();
                (r.rows, r.added, r.already_present)
            }
        };
        assert_eq!(run(csv.clone(), "r1").await, (100_000, 100_000, 0));
        assert_eq!(store.usage_record_count().await.unwrap(), u64::from(N));
        assert_eq!(run(csv.clone(), "r2").await, (100_000, 0, 100_000));
        assert_eq!(store.usage_record_count().await.unwrap(), u64::from(N));
        // Half the file again with ten new rows: only the ten are added.
        let mut part: String = csv.lines().take(50_001).collect::<Vec<_>>().join("\n");
        for i in N..N + 10 {
            part.push_str(&format!(
                "\nPLAT-{i:08},{t0},KSSA0001,querier1,C0101,{},,ok",
                national_id(i)
            ));
        }
        part.push('\n');
        assert_eq!(run(part, "r3").await, (50_010, 10, 50_000));
        assert_eq!(store.usage_record_count().await.unwrap(), u64::from(N) + 10);
        // One audit record per import.
        assert_eq!(store.audit_extent().await.unwrap().0, 3);
    }

    #[tokio::test]
    async fn one_bad_row_imports_nothing_and_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().await.unwrap();
        let keys = keys(dir.path());
        let csv = simulator_export(3).await;
        let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
        lines[2] = lines[2].replace("F131104093", "F131104094");
        let bad = lines.join("\n") + "\n";
        let errors = import_now(&store, &keys, &bad, "r").await.unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(!errors[0].reason.contains("F131104094"));
        assert_eq!(store.usage_record_count().await.unwrap(), 0);
        let (records, _) = store.audit_extent().await.unwrap();
        assert_eq!(records, 1, "the refused import is audited");
    }
}
