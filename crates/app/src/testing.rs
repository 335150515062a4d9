//! Fixtures the app's own unit tests and the integration tests share (feature `testing`, which
//! only dev-dependencies turn on), so a scenario's Form 2 row is written once.

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
