//! The connector against the simulator: every item, determinism, business outcomes.

use querywarden_bli::simulator::{SimulatorConfig, expected_records};
use querywarden_bli::{BliItem, BliRecords, Connector, ConnectorError};

use crate::helpers::{as_of, connector, ids, request, simulator};

#[tokio::test]
async fn every_item_returns_exactly_what_the_simulator_holds_and_the_same_twice() {
    let sim = simulator(SimulatorConfig::default()).await;
    let bli = connector(&sim.base_url());
    let mut rows_seen = [0usize; 9];
    for id in ids(150) {
        for (i, item) in BliItem::ALL.into_iter().enumerate() {
            let first = bli.query(&request(item, &id)).await;
            let second = bli.query(&request(item, &id)).await;
            assert_eq!(first, second, "{item} for {id} differs between two asks");
            assert_eq!(
                first,
                expected_records(&id, item, as_of()),
                "{item} for {id}"
            );
            if let Ok(records) = &first {
                assert_eq!(records.item(), item);
                rows_seen[i] += records.len();
            }
        }
    }
    for (item, rows) in BliItem::ALL.iter().zip(rows_seen) {
        assert!(rows > 0, "no rows at all for {item} across 150 people");
    }
}

#[tokio::test]
async fn unknown_people_are_not_found_and_never_insured_people_are_not_insured() {
    let sim = simulator(SimulatorConfig::default()).await;
    let bli = connector(&sim.base_url());
    let population = ids(300);
    let unknown = population
        .iter()
        .find(|id| expected_records(id, BliItem::C0101, as_of()) == Err(ConnectorError::NotFound))
        .expect("someone unknown");
    let uninsured = population
        .iter()
        .find(|id| expected_records(id, BliItem::C0101, as_of()) == Err(ConnectorError::NotInsured))
        .expect("someone never insured");
    for item in BliItem::ALL {
        assert_eq!(
            bli.query(&request(item, unknown)).await,
            Err(ConnectorError::NotFound)
        );
    }
    assert_eq!(
        bli.query(&request(BliItem::C0101, uninsured)).await,
        Err(ConnectorError::NotInsured)
    );
    assert_eq!(
        bli.query(&request(BliItem::B0401, uninsured)).await,
        Err(ConnectorError::NotInsured)
    );
    // Not a labour-insurance item: a known person with an answer (possibly empty).
    assert!(bli.query(&request(BliItem::N0101, uninsured)).await.is_ok());
}

#[test]
fn the_synthetic_population_is_plausible() {
    let population = ids(2000);
    let count = |f: &dyn Fn(&querywarden_domain::NationalId) -> bool| {
        population.iter().filter(|id| f(id)).count()
    };
    let not_found =
        count(&|id| expected_records(id, BliItem::C0101, as_of()) == Err(ConnectorError::NotFound));
    let not_insured = count(&|id| {
        expected_records(id, BliItem::C0101, as_of()) == Err(ConnectorError::NotInsured)
    });
    let deceased = count(&|id| {
        expected_records(id, BliItem::B0101, as_of())
            .is_ok_and(|r| r.subject_deceased() == Some(true))
    });
    let with_gaps = count(&|id| match expected_records(id, BliItem::C0101, as_of()) {
        Ok(BliRecords::C0101(spells)) => {
            spells.len() >= 2
                && spells
                    .windows(2)
                    .any(|w| w[0].withdrawal_date.is_some_and(|d| d < w[1].enrol_date))
        }
        _ => false,
    });
    let nonempty = |item: BliItem| {
        count(&|id| expected_records(id, item, as_of()).is_ok_and(|r| !r.is_empty()))
    };
    assert!(
        (200..=400).contains(&not_found),
        "not found: {not_found} of 2000"
    );
    assert!(not_insured > 50, "not insured: {not_insured}");
    assert!(deceased > 20, "deceased: {deceased}");
    assert!(with_gaps > 200, "several employers with gaps: {with_gaps}");
    assert!(nonempty(BliItem::T0101) > 20, "farmers' allowance");
    assert!(nonempty(BliItem::B0401) > 20, "labour insurance annuities");
    assert!(nonempty(BliItem::N0101) > 20, "national pension");
    assert!(nonempty(BliItem::P0401) > 20, "labour pension claims");
    // Every spell is ordered and every record is in range by construction of the types.
    for id in &population {
        if let Ok(BliRecords::C0101(spells)) = expected_records(id, BliItem::C0101, as_of()) {
            for s in spells {
                assert!(s.withdrawal_date.is_none_or(|w| w >= s.enrol_date));
                assert!(s.enrol_date <= as_of());
            }
        }
    }
}

#[tokio::test]
async fn an_account_not_on_the_allow_list_is_refused_and_logged() {
    let sim = simulator(SimulatorConfig {
        accounts: vec![("KSSA0001".into(), "someone.else".into())],
        ..SimulatorConfig::default()
    })
    .await;
    let bli = connector(&sim.base_url());
    let id = &ids(1)[0];
    let result = bli.query(&request(BliItem::C0101, id)).await;
    assert_eq!(
        result,
        Err(ConnectorError::Refused {
            status: 403,
            code: "account_not_authorised".into()
        })
    );
    let log = sim.usage_log().entries();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, "refused");
}
