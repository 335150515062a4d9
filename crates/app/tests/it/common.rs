//! What several modules set up alike: the application opened on a data directory, its people
//! signed in, the trail of one operation, and a test world's way to the demo organisation.

use jiff::Timestamp;
use querywarden_app::App;
use querywarden_app::auth::SignedIn;
use querywarden_app::config::BliMode;
use querywarden_app::registration::{Desk, GrantSource, RegistrationSettings, ScreenList};
use querywarden_app::request::{FileRequestInput, RequestSubjectInput};
use querywarden_domain::org::Person;
use querywarden_testkit::Org;
use querywarden_testkit::org::{self, audit, seeded_app};

/// The application on `<dir>/data` (not the demo server), the BLI in portal mode (nothing is
/// queried), the demo organisation seeded.
pub async fn portal_app(dir: &tempfile::TempDir) -> App {
    seeded_app(&dir.path().join("data"), |raw| {
        raw.server.demo = false;
        raw.bli.mode = BliMode::Portal;
    })
    .await
}

/// The person holding `account`.
pub async fn person(app: &App, account: &str) -> Person {
    org::person(app.store(), account).await
}

/// `account` signed in with a card session opened at `at`.
pub async fn signed_in(app: &App, account: &str, at: Timestamp) -> SignedIn {
    org::signed_in(&person(app, account).await, at)
}

/// The outcomes of the records of `action` made by operation `request_id`, newest first.
pub async fn trail_of(app: &App, action: &str, request_id: &str) -> Vec<String> {
    audit(app.store(), action)
        .await
        .into_iter()
        .filter(|r| r.request_id == request_id)
        .map(|r| r.outcome)
        .collect()
}

/// Form 3 (§5 ¶3) as a district office files it with 長青科 responsible (老人福利法 §12 ¶1
/// (2)): `items` for `subjects` (name and national ID), `declared` of them declared.
pub fn form3(items: &[&str], subjects: &[(&str, String)], declared: usize) -> FileRequestInput {
    FileRequestInput {
        applicant_title: "課員".into(),
        phone: "07-5511111".into(),
        fax: None,
        responsible_unit: "elderly-welfare".into(),
        legal_basis: "senior-citizens-welfare-12-1-2".into(),
        relevance: "中低收入老人生活津貼申請，需確認申請人及配偶就業收入".into(),
        items: items.iter().map(|i| i.to_string()).collect(),
        declared_subject_count: declared,
        subjects: subjects
            .iter()
            .map(|(n, id)| RequestSubjectInput {
                name: (*n).into(),
                national_id: id.clone(),
                linked_id: None,
            })
            .collect(),
    }
}

/// The registration desk over `org`'s store and keys with `settings`, `grants` and `screen`.
pub fn desk<'a, G: GrantSource>(
    org: &'a Org,
    settings: &'a RegistrationSettings,
    grants: &'a G,
    screen: &'a ScreenList,
) -> Desk<'a, G> {
    Desk {
        store: &org.store,
        keys: &org.keys,
        settings,
        grants,
        screen,
    }
}

/// `Deref` to the demo organisation (and, given `mut`, `DerefMut`) for a module's `World`
/// that holds it in its field `org`.
macro_rules! world_derefs_to_org {
    ($world:ty) => {
        impl std::ops::Deref for $world {
            type Target = querywarden_testkit::Org;
            fn deref(&self) -> &querywarden_testkit::Org {
                &self.org
            }
        }
    };
    ($world:ty, mut) => {
        $crate::common::world_derefs_to_org!($world);
        impl std::ops::DerefMut for $world {
            fn deref_mut(&mut self) -> &mut querywarden_testkit::Org {
                &mut self.org
            }
        }
    };
}
pub(crate) use world_derefs_to_org;
