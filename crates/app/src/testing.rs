//! Fixtures the app's own unit tests and the integration tests share (feature `testing`, which
//! only dev-dependencies turn on), so a scenario's Form 2 row is written once.

use querywarden_bli::simulator::{self, SimulatorConfig};
use querywarden_bli::{BliItem, Connector, HttpConnector, HttpConnectorConfig, QueryRequest};
use querywarden_domain::NationalId;
use querywarden_domain::org::PersonId;

use crate::registration::{QueryPurpose, RegisterQueryRequest};

/// The Form 2 row a social worker files for 王大同 (F131104093): one C0101 lookup to check a
/// low-income application, under the Social Assistance Act art. 44-3 ¶1, before a case is
/// opened (§4 ¶1 asks for the reason there is no case number), run by `querier`.
pub fn form2_for_wang(querier: PersonId) -> RegisterQueryRequest {
    RegisterQueryRequest {
        subject_name: "王大同".into(),
        subject_id: "F131104093".into(),
        linked_id: None,
        purpose: QueryPurpose {
            items: vec!["C0101".into()],
            legal_basis: "social-assistance-44-3-1".into(),
            relevance: "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入".into(),
            case_no: None,
            companion_basis: None,
            no_case_reason: Some("尚未立案，先行查核資格".into()),
            needer: None,
            querier: querier.into(),
        },
    }
}

/// The usage log (§7) a fresh BLI simulator exports after `n` queries through the real HTTP
/// connector, as lin.meiling of KHH-SOCBU: query `i` asks for `items[i % len]` about
/// `subjects[i % len]`, with request id `req-{i}`. What an administrator would upload.
#[allow(
    clippy::expect_used,
    reason = "a fixture whose simulator does not start should stop the test"
)]
pub async fn simulator_usage_csv(subjects: &[&str], items: &[BliItem], n: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the simulator");
    let sim = simulator::spawn(SimulatorConfig::default(), listener)
        .await
        .expect("the simulator starts");
    let connector = HttpConnector::new(HttpConnectorConfig::new(sim.base_url()))
        .expect("a connector to the simulator");
    for i in 0..n {
        let req = QueryRequest::new(
            format!("req-{i}"),
            items[i % items.len()],
            NationalId::parse(subjects[i % subjects.len()]).expect("a valid national id"),
            "KHH-SOCBU",
            "lin.meiling",
        )
        .expect("a query request");
        let _ = connector.query(&req).await;
    }
    sim.usage_log().to_csv()
}
