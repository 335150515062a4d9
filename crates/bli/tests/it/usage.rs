//! The simulator's usage log records each call, and its CSV export reads back through
//! `usage_log::parse_csv`.

use std::collections::BTreeSet;

use querywarden_bli::simulator::SimulatorConfig;
use querywarden_bli::usage_log::{ColumnMapping, parse_csv};
use querywarden_bli::{BliItem, Connector};

use crate::helpers::{connector, ids, request, simulator};

#[tokio::test]
async fn every_call_is_logged_and_the_csv_export_imports_back() {
    let sim = simulator(SimulatorConfig::default()).await;
    let bli = connector(&sim.base_url());
    let people = ids(6);
    let mut sent = Vec::new();
    for (id, item) in people.iter().zip(BliItem::ALL) {
        let req = request(item, id);
        let _ = bli.query(&req).await;
        sent.push(req);
    }
    assert_eq!(sim.usage_log().len(), sent.len());

    let http = reqwest::Client::new();
    let csv = http
        .get(format!("{}/admin/usage-log?format=csv", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let records = parse_csv(&csv, &ColumnMapping::default()).unwrap();
    assert_eq!(records.len(), sent.len());
    for (record, req) in records.iter().zip(&sent) {
        assert_eq!(record.request_id.as_deref(), Some(req.request_id.as_str()));
        assert_eq!(record.subject, req.subject);
        assert_eq!(record.item, req.item);
        assert_eq!(record.agency_code, "KSSA0001");
        assert_eq!(record.operator_account, "op.chen");
        assert!(["ok", "not_found", "not_insured"].contains(&record.outcome.as_str()));
    }
    // The idempotency key is unique per row, and a second export gives the same keys.
    let keys: BTreeSet<_> = records
        .iter()
        .map(|r| r.platform_record_id.clone())
        .collect();
    assert_eq!(keys.len(), records.len());
    let again = parse_csv(&sim.usage_log().to_csv(), &ColumnMapping::default()).unwrap();
    let again: BTreeSet<_> = again.into_iter().map(|r| r.platform_record_id).collect();
    assert_eq!(keys, again);

    let jsonl = http
        .get(format!("{}/admin/usage-log?format=jsonl", sim.base_url()))
        .send()
        .await
        .unwrap();
    let jsonl = jsonl.text().await.unwrap();
    assert_eq!(jsonl.lines().count(), sent.len());
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["subject_id"], sent[0].subject.expose_whole());
}

#[test]
fn bad_rows_are_reported_by_line_and_nothing_is_accepted() {
    let id = ids(1)[0].expose_whole().to_owned();
    let input = format!(
        "record_id,at,agency_code,operator_account,item,subject_id,request_id,outcome\r\n\
         R1,2026-03-01T01:00:00Z,KSSA,op,C0101,{id},,ok\r\n\
         R2,2026-03-01T01:00:00Z,KSSA,op,C0101,A000000000,,ok\r\n\
         R3,2026-03-01T01:00:00Z,,op,C0101,{id},,ok\r\n\
         \"R4\",\"2026-03-01T01:00:00Z\",\"KSSA\",\"op\",\"C0101\",\"{id}\",\"\",\"ok\"\r\n"
    );
    let errors = parse_csv(&input, &ColumnMapping::default()).unwrap_err();
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
    assert!(errors.iter().all(|e| !e.to_string().contains("A000000000")));
}
