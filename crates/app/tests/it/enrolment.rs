//! Go-live use cases (§2, §3) against a real store: `init` once, codes that work once,
//! resets that end sessions and the old password, the organisation CSV, revocation lists
//! signed by the anchors only, and supervisor roles that end with a transfer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::{SignedDuration, Timestamp};
use querywarden_app::auth::{self, AuthContext};
use querywarden_app::demo;
use querywarden_app::enrolment::codes::{self, EnrolRequest};
use querywarden_app::enrolment::init::{InitRequest, NewOfficer, init};
use querywarden_app::enrolment::{CodeSettings, crl, units};
use querywarden_app::keys::KeyRing;
use querywarden_app::permission::{self, Op, PermissionPolicy};
use querywarden_domain::enrolment::{CodePurpose, RateLimit};
use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_pki::demo_ca::{DemoCa, DemoCard, DemoKey};
use querywarden_pki::{RevocationList, SignatureFormat};
use querywarden_storage::{SessionRow, Store};
use querywarden_testkit::card;
use querywarden_testkit::org::{self, Org, audit, audit_all};

const PASSWORD: &str = "my-own-secret-phrase-115";

fn key(name: &str) -> DemoKey {
    card::fixture_key(name)
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn settings() -> CodeSettings {
    CodeSettings {
        valid_for: SignedDuration::from_hours(72),
        rate_limit: RateLimit {
            max_failures: 5,
            window: SignedDuration::from_mins(15),
        },
    }
}

struct World {
    store: Store,
    ctx: AuthContext,
    ca: DemoCa,
    desk: AdministratorDesk,
}

async fn person(store: &Store, account: &str) -> PersonId {
    org::person(store, account).await.id
}

/// The demo organisation with lin.meiling's last four digits on record, and the demo CA.
async fn world() -> World {
    let store = Org::in_memory(now()).await.store;
    let lin = person(&store, "lin.meiling").await;
    let mut tx = store.begin().await.unwrap();
    tx.set_person_id_last4(lin, "1234").await.unwrap();
    tx.commit().await.unwrap();
    let ca = card::fixture_ca(now());
    let ctx = card::auth_context(&card::demo_config(), &ca, &[], now());
    let wu = person(&store, "wu.zhiming").await;
    let op = permission::Op::new(now(), "enrolment-test");
    let desk = permission::administrator_desk(&store, &PermissionPolicy::default(), wu, &op)
        .await
        .unwrap();
    World {
        store,
        ctx,
        ca,
        desk,
    }
}

fn lin_card(w: &World) -> DemoCard {
    card::fixture_card(&w.ca, "card-a-key", "林美玲", "1234", now())
}

/// A fresh nonce signed (PKCS#7) with `card`, and `password` typed twice.
async fn enrol_request(w: &World, code: &str, card: &DemoCard, password: &str) -> EnrolRequest {
    let flow = "flow-token-of-this-browser-0000000000";
    let (nonce, _) = auth::issue_nonce(&w.store, &w.ctx, flow, now())
        .await
        .unwrap();
    let sig = card.sign(nonce.as_bytes(), SignatureFormat::Pkcs7).unwrap();
    EnrolRequest {
        code: code.into(),
        nonce,
        signature: B64.encode(sig),
        certificate: None,
        format: Some(SignatureFormat::Pkcs7),
        flow_token: flow.into(),
        password: password.into(),
        password_again: password.into(),
        client_addr: Some("192.0.2.7".into()),
        request_id: "op-enrol".into(),
    }
}

async fn enrol_with(
    w: &World,
    code: &str,
    card: &DemoCard,
    password: &str,
) -> Result<codes::Enrolled, String> {
    let req = enrol_request(w, code, card, password).await;
    codes::enrol(&w.store, &w.ctx, &settings(), req, now())
        .await
        .unwrap()
        .map_err(|f| f.code)
}

async fn issue(w: &World, account: &str, purpose: CodePurpose, reason: &str) -> String {
    codes::issue_code(
        &w.store,
        &w.desk,
        &settings(),
        account,
        purpose,
        reason,
        now(),
        "op-issue",
    )
    .await
    .unwrap()
    .unwrap()
    .code
    .display_once()
}

async fn outcomes(w: &World, action: &str) -> Vec<String> {
    audit(&w.store, action)
        .await
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

#[tokio::test]
async fn a_code_enrols_its_holder_once_and_is_stored_only_as_a_digest() {
    let w = world().await;
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "新進").await;
    let done = enrol_with(&w, &code, &lin_card(&w), PASSWORD)
        .await
        .unwrap();
    assert_eq!(done.account.as_str(), "lin.meiling");
    let lin = person(&w.store, "lin.meiling").await;
    assert!(w.store.binding_of(lin).await.unwrap().is_some());
    let creds = w.store.credentials(lin).await.unwrap().unwrap();
    assert!(auth::verify_password(PASSWORD, &creds.password_hash));
    assert_eq!(
        enrol_with(&w, &code, &lin_card(&w), PASSWORD)
            .await
            .unwrap_err(),
        "enrolment.code_used"
    );
    let rows = w.store.enrolment_codes_of(lin).await.unwrap();
    assert_eq!(rows.len(), 1);
    let entries: Vec<String> = audit_all(&w.store)
        .await
        .into_iter()
        .map(|r| String::from_utf8_lossy(&r.entry).into_owned())
        .collect();
    let bare = code.replace('-', "");
    assert!(
        entries
            .iter()
            .all(|e| !e.contains(&code) && !e.contains(&bare)),
        "the code is never in the trail"
    );
    assert_eq!(
        outcomes(&w, "auth.enrolment.completed").await,
        ["refused:enrolment.code_used", "succeeded"]
    );
}

#[tokio::test]
async fn a_card_that_names_someone_else_is_refused_and_the_code_still_works() {
    let w = world().await;
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    let other = card::fixture_card(&w.ca, "card-b-key", "林美玲", "9999", now());
    assert_eq!(
        enrol_with(&w, &code, &other, PASSWORD).await.unwrap_err(),
        "enrolment.digits_mismatch"
    );
    assert_eq!(
        enrol_with(&w, &code, &lin_card(&w), "short")
            .await
            .unwrap_err(),
        "password.too_short"
    );
    assert!(enrol_with(&w, &code, &lin_card(&w), PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_newer_code_supersedes_the_older_and_a_reset_needs_a_reason() {
    let w = world().await;
    let first = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    let _second = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    assert_eq!(
        enrol_with(&w, &first, &lin_card(&w), PASSWORD)
            .await
            .unwrap_err(),
        "enrolment.code_superseded"
    );
    let refused = codes::issue_code(
        &w.store,
        &w.desk,
        &settings(),
        "lin.meiling",
        CodePurpose::Reset,
        "  ",
        now(),
        "op",
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(refused.code(), "enrolment.reason_required");
    // chen has no last four digits on record: no code could be checked against a card.
    let refused = codes::issue_code(
        &w.store,
        &w.desk,
        &settings(),
        "chen.jianhong",
        CodePurpose::Enrol,
        "",
        now(),
        "op",
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(refused.code(), "enrolment.no_digits_on_record");
    assert_eq!(
        outcomes(&w, "auth.enrolment.code_issued").await,
        [
            "refused:enrolment.no_digits_on_record",
            "refused:enrolment.reason_required",
            "succeeded",
            "succeeded"
        ]
    );
}

#[tokio::test]
async fn a_reset_ends_the_sessions_and_the_old_password_and_rebinds_the_card() {
    let w = world().await;
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    enrol_with(&w, &code, &lin_card(&w), PASSWORD)
        .await
        .unwrap();
    let lin = person(&w.store, "lin.meiling").await;
    let mut tx = w.store.begin().await.unwrap();
    tx.insert_session(&SessionRow {
        token_hash: "live-session".into(),
        person: lin,
        csrf_token: "c".into(),
        created_at: now(),
        last_seen_at: now(),
        locked: false,
        ended: false,
        cert_fingerprint: "fp".into(),
        client_addr: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // A new card (renewal): the same person, another key.
    let renewed = card::fixture_card(&w.ca, "card-b-key", "林美玲", "1234", now());
    let reset = issue(&w, "lin.meiling", CodePurpose::Reset, "遺失密碼並換發憑證").await;
    assert_eq!(
        enrol_with(&w, &reset, &renewed, PASSWORD)
            .await
            .unwrap_err(),
        "password.reused",
        "the old password may not come back"
    );
    let done = enrol_with(&w, &reset, &renewed, "a-brand-new-phrase-115")
        .await
        .unwrap();
    assert_eq!(done.purpose, CodePurpose::Reset);
    assert_eq!(done.ended_sessions, 1);
    assert!(w.store.live_sessions(lin).await.unwrap().is_empty());
    let creds = w.store.credentials(lin).await.unwrap().unwrap();
    assert!(!auth::verify_password(PASSWORD, &creds.password_hash));
    let binding = w.store.binding_of(lin).await.unwrap().unwrap();
    assert_eq!(
        binding.fingerprint_sha256,
        renewed.citizen().unwrap().fingerprint_sha256
    );
}

#[tokio::test]
async fn guessing_from_one_address_is_cut_off_after_the_limit() {
    let w = world().await;
    for _ in 0..5 {
        assert_eq!(
            enrol_with(&w, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", &lin_card(&w), PASSWORD)
                .await
                .unwrap_err(),
            "enrolment.unknown_code"
        );
    }
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    assert_eq!(
        enrol_with(&w, &code, &lin_card(&w), PASSWORD)
            .await
            .unwrap_err(),
        "enrolment.rate_limited"
    );
}

fn officer(account: &str, name: &str, id: &str) -> NewOfficer {
    NewOfficer {
        account: account.into(),
        name: name.into(),
        title: "資訊管理師".into(),
        unit: "it-group".into(),
        national_id: id.into(),
        egov_account: "egov".into(),
    }
}

#[tokio::test]
async fn init_records_the_officers_once_and_keeps_no_national_id_in_clear() {
    let store = Store::open_in_memory().await.unwrap();
    demo::initialise(&store, now(), "t").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::open_or_create(dir.path(), now()).unwrap();
    let same = InitRequest {
        administrator: officer("wu.zhiming", "吳志明", "E100201002"),
        deputy: officer("wu.zhiming", "吳志明", "E100201002"),
    };
    let r = init(&store, &keys, &settings(), &same, now(), "op")
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().code, "init.same_person");
    let bad_id = InitRequest {
        administrator: officer("wu.zhiming", "吳志明", "E100201003"),
        deputy: officer("li.jiarong", "李佳蓉", "E200301009"),
    };
    let r = init(&store, &keys, &settings(), &bad_id, now(), "op")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(r.code, "init.invalid");
    assert!(!r.message.contains("E100201003"), "{}", r.message);
    assert!(store.persons().await.unwrap().is_empty(), "nothing changed");
    let good = InitRequest {
        administrator: officer("wu.zhiming", "吳志明", "E100201002"),
        deputy: officer("li.jiarong", "李佳蓉", "E200301009"),
    };
    let out = init(&store, &keys, &settings(), &good, now(), "op")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(out.administrator.1, out.deputy.1);
    let wu = person(&store, "wu.zhiming").await;
    assert_eq!(
        store.person_id_last4(wu).await.unwrap().as_deref(),
        Some("1002")
    );
    let again = init(&store, &keys, &settings(), &good, now(), "op")
        .await
        .unwrap();
    assert_eq!(again.unwrap_err().code, "init.already_initialised");
    let all: Vec<_> = audit(&store, "system.initialised").await;
    assert!(
        all.iter()
            .all(|r| !String::from_utf8_lossy(&r.entry).contains("E100201002"))
    );
    assert_eq!(
        all.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(),
        [
            "refused:init.already_initialised",
            "succeeded",
            "refused:init.invalid",
            "refused:init.same_person",
            "succeeded"
        ]
    );
}

#[tokio::test]
async fn a_transfer_ends_the_supervisor_role_on_its_effective_date() {
    let w = world().await;
    let sa = UnitId::new("social-assistance").unwrap();
    let chen = person(&w.store, "chen.jianhong").await;
    let huang = person(&w.store, "huang.yating").await;
    let op = Op::new(now(), "op-units");
    let csv = "unit_id,name,kind,parent,supervisor,deputy\n\
               social-assistance,社會救助科,bureau_section,,chen.jianhong,huang.yating\n";
    units::import_units(&w.store, &w.desk, csv, &op)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        w.store.unit_deputies().await.unwrap().get(&sa),
        Some(&huang)
    );
    let today = querywarden_domain::roc_date::taipei_date(now()).format_short();
    let staff = format!(
        "account,national_id,name,unit,title,status,effective_date\n\
         chen.jianhong,,陳建宏,elderly-welfare,科長,transferred,{today}\n"
    );
    permission::staff::import_staff_csv(&w.store, &w.desk, &staff, &op)
        .await
        .unwrap();
    assert_eq!(w.store.unit_supervisors().await.unwrap().get(&sa), None);
    let chen_now = w.store.person(chen).await.unwrap().unwrap();
    assert!(!chen_now.has_role(querywarden_domain::org::Role::UnitSupervisor));
    assert_eq!(
        w.store.unit_deputies().await.unwrap().get(&sa),
        Some(&huang),
        "the deputy stays"
    );
    assert_eq!(
        outcomes(&w, "admin.supervisor_role.ended").await,
        ["succeeded"]
    );
}

#[tokio::test]
async fn the_units_file_is_all_or_nothing_and_idempotent() {
    let w = world().await;
    let op = Op::new(now(), "op-units");
    let bad = "unit_id,name,kind,parent,supervisor,deputy\n\
               sa-team-1,救助一股,bureau_section,social-assistance,,\n\
               sa-team-2,救助二股,bureau_section,nowhere,,\n";
    let errors = units::import_units(&w.store, &w.desk, bad, &op)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3]);
    let before = w.store.units().await.unwrap().len();
    let good = "unit_id,name,kind,parent,supervisor,deputy\n\
                sa-team-1,救助一股,bureau_section,social-assistance,,\n";
    let r = units::import_units(&w.store, &w.desk, good, &op)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.units_added, 1);
    assert_eq!(w.store.units().await.unwrap().len(), before + 1);
    let again = units::import_units(&w.store, &w.desk, good, &op)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.changes(), 0);
    assert_eq!(
        outcomes(&w, "admin.units.imported").await,
        ["succeeded", "succeeded", "refused:units.bad_rows"]
    );
}

#[tokio::test]
async fn only_a_list_signed_by_a_trust_anchor_is_kept_and_never_an_older_one() {
    let w = world().await;
    let t0 = now() - SignedDuration::from_hours(2);
    let older = w.ca.crl(&[], t0).unwrap();
    let newer = w.ca.crl(&[], now()).unwrap();
    let stranger = DemoCa::from_keys(key("other-root-key"), key("other-g3-key"), now())
        .unwrap()
        .crl(&[], now())
        .unwrap();
    let import = |bytes: Vec<u8>| {
        let w = &w;
        async move {
            crl::import(&w.store, &w.ctx.anchors, &bytes, "file", None, now(), "op")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        import(stranger).await.unwrap_err().code,
        "pki.unknown_issuer",
        "a look-alike CA's list is not the anchors'"
    );
    assert_eq!(
        import(b"not a crl".to_vec()).await.unwrap_err().code,
        "pki.malformed"
    );
    assert!(import(newer).await.unwrap().replaced);
    assert!(!import(older).await.unwrap().replaced);
    let kept = w.store.revocation_lists().await.unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].this_update > t0);
    let status = crl::status(&w.ctx, now());
    assert!(status.iter().all(|s| !s.stale));
    assert!(
        crl::status(&w.ctx, now() + SignedDuration::from_hours(24 * 8))
            .iter()
            .all(|s| s.stale)
    );
}

#[tokio::test]
async fn an_expired_code_is_refused_and_the_attempt_audited() {
    let w = world().await;
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    let req = EnrolRequest {
        client_addr: Some("192.0.2.8".into()),
        request_id: "op-late".into(),
        ..enrol_request(&w, &code, &lin_card(&w), PASSWORD).await
    };
    let three_days_later = now() + SignedDuration::from_hours(73);
    let refused = codes::enrol(&w.store, &w.ctx, &settings(), req, three_days_later)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.code, "enrolment.code_expired");
    assert_eq!(
        outcomes(&w, "auth.enrolment.completed").await,
        ["refused:enrolment.code_expired"]
    );
    let lin = person(&w.store, "lin.meiling").await;
    assert!(
        w.store.credentials(lin).await.unwrap().is_none(),
        "nothing changed"
    );
}

#[tokio::test]
async fn a_future_transfer_keeps_the_role_until_its_date_and_ends_it_then() {
    let w = world().await;
    let sa = UnitId::new("social-assistance").unwrap();
    let chen = person(&w.store, "chen.jianhong").await;
    let op = Op::new(now(), "op-staff");
    let next_week = now() + SignedDuration::from_hours(24 * 7);
    let date = querywarden_domain::roc_date::taipei_date(next_week).format_short();
    let staff = format!(
        "account,national_id,name,unit,title,status,effective_date\n\
         chen.jianhong,,陳建宏,elderly-welfare,科長,transferred,{date}\n"
    );
    permission::staff::import_staff_csv(&w.store, &w.desk, &staff, &op)
        .await
        .unwrap();
    assert_eq!(
        w.store.unit_supervisors().await.unwrap().get(&sa),
        Some(&chen),
        "still the supervisor before the date"
    );
    let then = Op::new(next_week + SignedDuration::from_hours(1), "op-job");
    permission::staff::apply_due_staff_changes(&w.store, &then)
        .await
        .unwrap();
    assert_eq!(w.store.unit_supervisors().await.unwrap().get(&sa), None);
}

#[tokio::test]
async fn a_stale_revocation_list_refuses_enrolment_under_require_crl() {
    let w = world().await;
    let ten_days_ago = now() - SignedDuration::from_hours(24 * 10);
    let stale = RevocationList::from_der_or_pem(&w.ca.crl(&[], ten_days_ago).unwrap()).unwrap();
    w.ctx.replace_crls(vec![stale]);
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    assert_eq!(
        enrol_with(&w, &code, &lin_card(&w), PASSWORD)
            .await
            .unwrap_err(),
        "pki.crl_stale"
    );
    assert!(crl::status(&w.ctx, now()).iter().all(|s| s.stale));
}

#[tokio::test]
async fn two_different_passwords_or_an_unknown_format_are_refused_and_audited() {
    let w = world().await;
    let code = issue(&w, "lin.meiling", CodePurpose::Enrol, "").await;
    let base = EnrolRequest {
        password_again: "something-else-entirely-115".into(),
        client_addr: Some("192.0.2.9".into()),
        request_id: "op-typo".into(),
        ..enrol_request(&w, &code, &lin_card(&w), PASSWORD).await
    };
    let unknown_format = EnrolRequest {
        format: None,
        password_again: PASSWORD.into(),
        ..base.clone()
    };
    for (req, code) in [
        (base, "enrolment.passwords_differ"),
        (unknown_format, "login.malformed_format"),
    ] {
        let refused = codes::enrol(&w.store, &w.ctx, &settings(), req, now())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.code, code);
    }
    assert_eq!(
        outcomes(&w, "auth.enrolment.completed").await,
        [
            "refused:login.malformed_format",
            "refused:enrolment.passwords_differ"
        ]
    );
}
