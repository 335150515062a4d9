//! Sign-in (§3), attack by attack: every refusal is refused, audited, and leaves no session.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::{SignedDuration, Timestamp};
use querywarden_app::auth::{
    self, AuthContext, AuthFailure, LoginRequest, MutualTlsLoginRequest, SessionRefusal, SignedIn,
};
use querywarden_app::binding::binding_of;
use querywarden_domain::auth::SessionStatus;
use querywarden_domain::org::{Account, PersonId};
use querywarden_pki::SignatureFormat;
use querywarden_pki::demo_ca::{DemoCa, DemoCard, DemoKey};
use querywarden_storage::{CertificateBinding, Store};
use querywarden_testkit::card;
use querywarden_testkit::org::{self, Org, audit};

const PASSWORD: &str = "a-long-passphrase-2026";

fn key(name: &str) -> DemoKey {
    card::fixture_key(name)
}

fn now() -> Timestamp {
    Timestamp::now()
}

struct World {
    store: Store,
    ctx: AuthContext,
    ca: DemoCa,
    lin_card: DemoCard,
    lin: PersonId,
    chen: PersonId,
}

async fn world() -> World {
    let store = Org::in_memory(now()).await.store;
    let ca = card::fixture_ca(now());
    let lin_card = card::fixture_card(&ca, "card-a-key", "林美玲", "1234", now());
    let chen_card = card::fixture_card(&ca, "card-b-key", "陳建宏", "5678", now());
    let lin = person(&store, "lin.meiling").await;
    let chen = person(&store, "chen.jianhong").await;
    let hash = auth::hash_password(PASSWORD).unwrap();
    let mut tx = store.begin().await.unwrap();
    for (p, card, last4) in [(lin, &lin_card, "1234"), (chen, &chen_card, "5678")] {
        tx.set_person_id_last4(p, last4).await.unwrap();
        tx.bind_certificate(p, &binding_of(&card.citizen().unwrap()), None, now())
            .await
            .unwrap();
        tx.set_password(p, &hash, false, now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let ctx = card::auth_context(&card::demo_config(), &ca, &[], now());
    World {
        store,
        ctx,
        ca,
        lin_card,
        lin,
        chen,
    }
}

async fn person(store: &Store, account: &str) -> PersonId {
    org::person(store, account).await.id
}

/// A login request signed by `card` over a nonce issued to `flow`.
async fn request(
    w: &World,
    card: &DemoCard,
    account: &str,
    password: &str,
    flow: &str,
) -> LoginRequest {
    let (nonce, _) = auth::issue_nonce(&w.store, &w.ctx, flow, now())
        .await
        .unwrap();
    signed(card, account, password, flow, &nonce)
}

fn signed(card: &DemoCard, account: &str, password: &str, flow: &str, nonce: &str) -> LoginRequest {
    let sig = card.sign(nonce.as_bytes(), SignatureFormat::Pkcs7).unwrap();
    LoginRequest {
        account: account.into(),
        password: password.into(),
        nonce: nonce.into(),
        signature: B64.encode(sig),
        certificate: None,
        format: SignatureFormat::Pkcs7,
        flow_token: flow.into(),
        client_addr: Some("127.0.0.1".into()),
        request_id: "op-test".into(),
    }
}

/// The sign-in `req` at `at`: the new session, or why not.
async fn login_at(
    w: &World,
    req: LoginRequest,
    at: Timestamp,
) -> Result<auth::NewSession, AuthFailure> {
    auth::login(&w.store, &w.ctx, req, at).await.unwrap()
}

/// lin.meiling signs in with her card and the right password.
async fn sign_in_lin(w: &World, flow: &str) -> auth::NewSession {
    let req = request(w, &w.lin_card, "lin.meiling", PASSWORD, flow).await;
    login_at(w, req, now()).await.unwrap()
}

/// The session `token`, locked or not, at `at`.
async fn locked_session(w: &World, token: &str, at: Timestamp) -> SignedIn {
    auth::session_even_if_locked(&w.store, &w.ctx, token, at)
        .await
        .unwrap()
        .unwrap()
}

/// `password` typed to unlock the screen of `locked` at `at`.
async fn unlock_at(
    w: &World,
    locked: &SignedIn,
    password: &str,
    at: Timestamp,
) -> Result<(), AuthFailure> {
    auth::unlock(&w.store, &w.ctx, locked, password.into(), at, "op")
        .await
        .unwrap()
}

/// The session `token` opens at `at`, or why it does not.
async fn session_of(w: &World, token: &str, at: Timestamp) -> Result<SignedIn, SessionRefusal> {
    auth::authenticate(&w.store, &w.ctx, token, at)
        .await
        .unwrap()
}

async fn refused_code(w: &World, req: LoginRequest) -> String {
    login_at(w, req, now())
        .await
        .expect_err("should be refused")
        .code
}

async fn live_sessions(w: &World, p: PersonId) -> usize {
    w.store.live_sessions(p).await.unwrap().len()
}

/// The newest `auth.login.failed` record's outcome.
async fn last_failure_outcome(w: &World) -> String {
    audit(&w.store, "auth.login.failed")
        .await
        .first()
        .map(|r| r.outcome.clone())
        .unwrap_or_default()
}

async fn assert_refused_audited_no_session(w: &World, req: LoginRequest, code: &str) {
    let got = refused_code(w, req).await;
    assert_audited_no_session(w, &got, code).await;
}

/// A sign-in refused with `got` was refused with `code`, audited, and left no session.
async fn assert_audited_no_session(w: &World, got: &str, code: &str) {
    assert_eq!(got, code);
    assert_eq!(last_failure_outcome(w).await, format!("refused:{code}"));
    assert_eq!(live_sessions(w, w.lin).await, 0);
    assert_eq!(live_sessions(w, w.chen).await, 0);
}

#[tokio::test]
async fn the_right_card_and_password_sign_in_and_the_session_authenticates() {
    let w = world().await;
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    let s = login_at(&w, req, now()).await.unwrap();
    assert_eq!(s.person.name, "林美玲");
    let who = session_of(&w, &s.token, now()).await.unwrap();
    assert_eq!(who.person.id, w.lin);
    assert!(who.csrf_ok(&s.csrf_token));
    assert!(!who.csrf_ok("forged"));
    let ok = audit(&w.store, "auth.login.succeeded").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].actor_person_id, Some(w.lin.get()));
}

#[tokio::test]
async fn a_reused_nonce_is_refused() {
    let w = world().await;
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    login_at(&w, req.clone(), now()).await.unwrap();
    let sessions_before = live_sessions(&w, w.lin).await;
    assert_eq!(refused_code(&w, req).await, "login.nonce_reused");
    assert_eq!(last_failure_outcome(&w).await, "refused:login.nonce_reused");
    assert_eq!(live_sessions(&w, w.lin).await, sessions_before);
}

#[tokio::test]
async fn a_nonce_issued_to_another_browser_is_refused() {
    let w = world().await;
    let mut req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-victim").await;
    req.flow_token = "flow-attacker".into();
    assert_refused_audited_no_session(&w, req, "login.nonce_other_session").await;
}

#[tokio::test]
async fn an_expired_nonce_is_refused() {
    let w = world().await;
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    let late = now() + SignedDuration::from_secs(121);
    let code = login_at(&w, req, late).await.unwrap_err().code;
    assert_eq!(code, "login.nonce_expired");
    assert_eq!(live_sessions(&w, w.lin).await, 0);
}

#[tokio::test]
async fn an_unknown_nonce_is_refused() {
    let w = world().await;
    let req = signed(
        &w.lin_card,
        "lin.meiling",
        PASSWORD,
        "flow-1",
        "bm90LWlzc3VlZA==",
    );
    assert_refused_audited_no_session(&w, req, "login.nonce_unknown").await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let w = world().await;
    let other = DemoCa::from_keys(key("other-root-key"), key("other-g3-key"), now()).unwrap();
    let card = card::fixture_card(&other, "card-a-key", "林美玲", "1234", now());
    let req = request(&w, &card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "pki.unknown_issuer").await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let w = world().await;
    let three_years_ago = now() - SignedDuration::from_hours(3 * 365 * 24);
    let card = card::fixture_card(&w.ca, "card-a-key", "林美玲", "1234", three_years_ago);
    let req = request(&w, &card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "pki.expired").await;
}

#[tokio::test]
async fn a_revoked_certificate_is_refused() {
    let w = world().await;
    let serial = w.lin_card.citizen().unwrap().serial_hex;
    let w = World {
        ctx: card::auth_context(&card::demo_config(), &w.ca, &[&serial], now()),
        ..w
    };
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "pki.revoked").await;
}

#[tokio::test]
async fn a_certificate_bound_to_someone_else_is_refused() {
    let w = world().await;
    // chen's card, typed as lin's account.
    let chen_binding = w.store.binding_of(w.chen).await.unwrap().unwrap();
    assert_ne!(chen_binding.subject_cn, "林美玲");
    let chen_card = card::fixture_card(&w.ca, "card-b-key", "陳建宏", "5678", now());
    // Re-bind chen to this exact card so that only the account differs.
    let mut tx = w.store.begin().await.unwrap();
    tx.bind_certificate(
        w.chen,
        &binding_of(&chen_card.citizen().unwrap()),
        None,
        now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let req = request(&w, &chen_card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "login.certificate_other_account").await;
}

#[tokio::test]
async fn a_valid_certificate_bound_to_nobody_is_refused() {
    let w = world().await;
    let stranger = card::fixture_card(&w.ca, "card-b-key", "王大明", "9999", now());
    let req = request(&w, &stranger, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "login.certificate_unbound").await;
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let w = world().await;
    let mut req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    let mut sig = B64.decode(&req.signature).unwrap();
    let n = sig.len();
    sig[n - 10] ^= 0x01;
    req.signature = B64.encode(sig);
    let code = refused_code(&w, req).await;
    assert!(code.starts_with("pki."), "{code}");
    assert_eq!(last_failure_outcome(&w).await, format!("refused:{code}"));
    assert_eq!(live_sessions(&w, w.lin).await, 0);
}

#[tokio::test]
async fn garbage_in_every_field_is_refused_without_a_session() {
    let w = world().await;
    let base = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-g").await;
    let garbage = [
        "",
        "!!!",
        "\u{0}\u{7f}",
        "A",
        &"x".repeat(10_000),
        "'; DROP TABLE sessions; --",
    ];
    for g in garbage {
        for field in 0..5 {
            let (nonce, _) = auth::issue_nonce(&w.store, &w.ctx, "flow-g", now())
                .await
                .unwrap();
            let mut req = signed(&w.lin_card, "lin.meiling", PASSWORD, "flow-g", &nonce);
            match field {
                0 => req.account = g.into(),
                1 => req.password = g.into(),
                2 => req.nonce = g.into(),
                3 => req.signature = g.into(),
                _ => req.certificate = Some(g.into()),
            }
            if field == 4 && g.is_empty() {
                continue; // an empty certificate field is how PKCS#7 logins arrive
            }
            let outcome = login_at(&w, req, now()).await;
            assert!(
                outcome.is_err(),
                "garbage {g:?} in field {field} was accepted"
            );
        }
    }
    let _ = base;
    assert_eq!(live_sessions(&w, w.lin).await, 0);
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let w = world().await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let req = request(
            &w,
            &w.lin_card,
            "lin.meiling",
            "wrong-password-0000",
            "flow-1",
        )
        .await;
        codes.push(refused_code(&w, req).await);
    }
    assert_eq!(codes[..4], ["login.wrong_password"; 4]);
    assert_eq!(codes[4], "login.account_locked");
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_refused_audited_no_session(&w, req, "login.account_locked").await;
    let locks = audit(&w.store, "auth.account.locked").await;
    assert_eq!(locks.len(), 1);
    // After fifteen minutes the right password works again.
    let later = now() + SignedDuration::from_mins(16);
    let (nonce, _) = auth::issue_nonce(&w.store, &w.ctx, "flow-1", later)
        .await
        .unwrap();
    let req = signed(&w.lin_card, "lin.meiling", PASSWORD, "flow-1", &nonce);
    assert!(login_at(&w, req, later).await.is_ok());
}

#[tokio::test]
async fn a_second_login_ends_the_first_session() {
    let w = world().await;
    let first = sign_in_lin(&w, "flow-a").await;
    let second = sign_in_lin(&w, "flow-b").await;
    assert_ne!(first.token, second.token);
    assert_eq!(
        session_of(&w, &first.token, now()).await.unwrap_err(),
        SessionRefusal::Expired(SessionStatus::Ended)
    );
    assert!(session_of(&w, &second.token, now()).await.is_ok());
    assert_eq!(live_sessions(&w, w.lin).await, 1);
    let ended = audit(&w.store, "auth.session.ended").await;
    assert_eq!(ended.len(), 1);
}

#[tokio::test]
async fn a_locked_session_is_refused_until_unlocked_with_the_password() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    auth::lock(&w.store, &who, now(), "op").await.unwrap();
    assert_eq!(
        session_of(&w, &s.token, now()).await.unwrap_err(),
        SessionRefusal::Locked
    );
    let locked = locked_session(&w, &s.token, now()).await;
    let wrong = unlock_at(&w, &locked, "nope-nope-nope", now()).await;
    assert_eq!(wrong.unwrap_err().code, "login.wrong_password");
    unlock_at(&w, &locked, PASSWORD, now()).await.unwrap();
    assert!(session_of(&w, &s.token, now()).await.is_ok());
}

#[tokio::test]
async fn an_idle_session_expires_and_is_audited() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let later = now() + SignedDuration::from_mins(16);
    assert_eq!(
        session_of(&w, &s.token, later).await.unwrap_err(),
        SessionRefusal::Expired(SessionStatus::IdleExpired)
    );
    assert_eq!(live_sessions(&w, w.lin).await, 0);
}

#[tokio::test]
async fn password_changes_follow_the_policy_and_the_history() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    let change = |cur: &str, new: &str| {
        let (store, ctx, who, cur, new) =
            (&w.store, &w.ctx, &who, cur.to_string(), new.to_string());
        async move {
            auth::change_password(store, ctx, who, cur, new, now(), "op")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        change(PASSWORD, "short").await.unwrap_err().code,
        "password.too_short"
    );
    assert_eq!(
        change(PASSWORD, "meiling-forever-2026")
            .await
            .unwrap_err()
            .code,
        "password.contains_account"
    );
    assert_eq!(
        change("not-the-current-one", "a-new-passphrase-77")
            .await
            .unwrap_err()
            .code,
        "password.current_wrong"
    );
    change(PASSWORD, "second-passphrase-2026").await.unwrap();
    change("second-passphrase-2026", "third-passphrase-2026")
        .await
        .unwrap();
    // The first one is still among the last three.
    assert_eq!(
        change("third-passphrase-2026", PASSWORD)
            .await
            .unwrap_err()
            .code,
        "password.reused"
    );
}

// --- Mutual TLS: the card comes from the TLS connection -----------------

fn tls_request(card: &DemoCard, account: &str, password: &str) -> MutualTlsLoginRequest {
    MutualTlsLoginRequest {
        account: account.into(),
        password: password.into(),
        chain_der: vec![card.certificate_der().unwrap()],
        client_addr: Some("127.0.0.1".into()),
        request_id: "op-tls".into(),
    }
}

async fn tls_refused(w: &World, req: MutualTlsLoginRequest, code: &str) {
    let got = auth::login_with_client_certificate(&w.store, &w.ctx, req, now())
        .await
        .unwrap()
        .expect_err("should be refused")
        .code;
    assert_audited_no_session(w, &got, code).await;
}

#[tokio::test]
async fn a_tls_client_certificate_and_the_password_sign_in_and_end_the_old_session() {
    let w = world().await;
    let first = sign_in_lin(&w, "flow-1").await;
    let s = auth::login_with_client_certificate(
        &w.store,
        &w.ctx,
        tls_request(&w.lin_card, "lin.meiling", PASSWORD),
        now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(s.person.id, w.lin);
    assert_eq!(live_sessions(&w, w.lin).await, 1);
    assert!(matches!(
        session_of(&w, &first.token, now()).await,
        Err(SessionRefusal::Expired(SessionStatus::Ended))
    ));
}

#[tokio::test]
async fn mutual_tls_refuses_no_certificate_another_ca_revocation_and_wrong_passwords() {
    let w = world().await;
    let mut none = tls_request(&w.lin_card, "lin.meiling", PASSWORD);
    none.chain_der.clear();
    tls_refused(&w, none, "pki.missing_certificate").await;
    let mut garbage = tls_request(&w.lin_card, "lin.meiling", PASSWORD);
    garbage.chain_der = vec![b"not a certificate".to_vec()];
    tls_refused(&w, garbage, "pki.malformed").await;

    let other_ca = DemoCa::from_keys_named(
        "DEMO 其他根憑證",
        "DEMO 其他中繼",
        key("root-key"),
        key("g3-key"),
        now(),
    )
    .unwrap();
    let foreign = card::fixture_card(&other_ca, "card-a-key", "林美玲", "1234", now());
    tls_refused(
        &w,
        tls_request(&foreign, "lin.meiling", PASSWORD),
        "pki.unknown_issuer",
    )
    .await;
    tls_refused(
        &w,
        tls_request(&w.lin_card, "chen.jianhong", PASSWORD),
        "login.certificate_other_account",
    )
    .await;
    tls_refused(
        &w,
        tls_request(&w.lin_card, "lin.meiling", "a-wrong-passphrase-1"),
        "login.wrong_password",
    )
    .await;

    let serial = w.lin_card.citizen().unwrap().serial_hex;
    let w = World {
        ctx: card::auth_context(&card::demo_config(), &w.ca, &[&serial], now()),
        ..w
    };
    tls_refused(
        &w,
        tls_request(&w.lin_card, "lin.meiling", PASSWORD),
        "pki.revoked",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_its_session_stops_working() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let mut tx = w.store.begin().await.unwrap();
    tx.disable_account(w.lin, querywarden_storage::DisableReason::Idle, None, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        session_of(&w, &s.token, now()).await.unwrap_err(),
        SessionRefusal::Disabled
    );
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-2").await;
    assert_eq!(refused_code(&w, req).await, "login.account_disabled");
}

/// The administrator at `desk` binds the card with `certificate` to `account`.
async fn bind_at(
    w: &World,
    desk: &querywarden_domain::permission::AdministratorDesk,
    account: &str,
    certificate: &[u8],
) -> Result<CertificateBinding, AuthFailure> {
    let account = Account::parse(account).unwrap();
    querywarden_app::binding::bind_card(&w.store, &w.ctx, desk, &account, certificate, now(), "op")
        .await
        .unwrap()
}

/// The administrator's desk, as the rules hand it out.
async fn admin_desk(w: &World) -> querywarden_domain::permission::AdministratorDesk {
    let admin = person(&w.store, "wu.zhiming").await;
    querywarden_app::permission::administrator_desk(
        &w.store,
        &querywarden_app::permission::PermissionPolicy::default(),
        admin,
        &querywarden_app::permission::Op::new(now(), "t"),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_administrator_binds_a_renewed_card_and_the_old_one_stops_working() {
    let w = world().await;
    let desk = admin_desk(&w).await;
    let old = sign_in_lin(&w, "flow-1").await;
    let renewed = card::fixture_card(&w.ca, "card-b-key", "林美玲", "1234", now());
    let bound = bind_at(
        &w,
        &desk,
        "lin.meiling",
        &renewed.certificate_der().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(bound.subject_cn, "林美玲");
    // Binding the new card ended the session of the old one, and the old card is refused.
    assert!(session_of(&w, &old.token, now()).await.is_err());
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-2").await;
    assert_eq!(refused_code(&w, req).await, "login.certificate_unbound");
    let req = request(&w, &renewed, "lin.meiling", PASSWORD, "flow-3").await;
    assert!(login_at(&w, req, now()).await.is_ok());
}

#[tokio::test]
async fn a_card_that_does_not_name_the_person_or_comes_from_elsewhere_is_not_bound() {
    let w = world().await;
    let desk = admin_desk(&w).await;
    let bind = |cert: Vec<u8>| {
        let (w, desk) = (&w, &desk);
        async move {
            bind_at(w, desk, "lin.meiling", &cert)
                .await
                .unwrap_err()
                .code
        }
    };
    let someone_else = card::fixture_card(&w.ca, "card-b-key", "王大明", "1234", now());
    assert_eq!(
        bind(someone_else.certificate_der().unwrap()).await,
        "binding.name_mismatch"
    );
    let wrong_digits = card::fixture_card(&w.ca, "card-b-key", "林美玲", "9999", now());
    assert_eq!(
        bind(wrong_digits.certificate_der().unwrap()).await,
        "binding.id_digits_mismatch"
    );
    let other = DemoCa::from_keys(key("other-root-key"), key("other-g3-key"), now()).unwrap();
    let foreign = card::fixture_card(&other, "card-b-key", "林美玲", "1234", now());
    assert_eq!(
        bind(foreign.certificate_der().unwrap()).await,
        "pki.unknown_issuer"
    );
    // chen's card is bound to chen.
    let chen_binding = w.store.binding_of(w.chen).await.unwrap().unwrap();
    assert_ne!(chen_binding.subject_cn, "林美玲");
    assert_eq!(bind(b"garbage".to_vec()).await, "pki.malformed");
}

// --- Holes found by attacking the running demo -------------------------------------------

async fn failed_count(w: &World, p: PersonId) -> u32 {
    w.store.credentials(p).await.unwrap().unwrap().failed_count
}

async fn outcomes_of(w: &World, action: &str) -> Vec<String> {
    audit(&w.store, action)
        .await
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_parallel_wrong_passwords_count_twelve_and_the_right_one_stays_locked_out() {
    let w = std::sync::Arc::new(world().await);
    let mut requests = Vec::new();
    for i in 0..12 {
        let flow = format!("flow-{i}");
        requests.push(request(&w, &w.lin_card, "lin.meiling", "wrong-password-0000", &flow).await);
    }
    let mut set = tokio::task::JoinSet::new();
    for req in requests {
        let w = w.clone();
        set.spawn(async move { login_at(&w, req, now()).await });
    }
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap().is_err(), "a wrong password never signs in");
    }
    assert_eq!(failed_count(&w, w.lin).await, 12);
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-right").await;
    assert_refused_audited_no_session(&w, req, "login.account_locked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_parallel_wrong_unlocks_count_twelve_and_the_password_then_cannot_unlock() {
    let w = std::sync::Arc::new(world().await);
    let s = sign_in_lin(&w, "flow-1").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    auth::lock(&w.store, &who, now(), "op").await.unwrap();
    let locked = locked_session(&w, &s.token, now()).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (w, locked) = (w.clone(), locked.clone());
        set.spawn(async move { unlock_at(&w, &locked, "nope-nope-nope", now()).await });
    }
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap().is_err());
    }
    assert_eq!(failed_count(&w, w.lin).await, 12);
    let right = unlock_at(&w, &locked, PASSWORD, now()).await;
    assert_eq!(right.unwrap_err().code, "login.account_locked");
    assert!(session_of(&w, &s.token, now()).await.is_err());
}

#[tokio::test]
async fn a_wrong_current_password_counts_towards_the_lockout_and_is_audited() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = auth::change_password(
            &w.store,
            &w.ctx,
            &who,
            "guess-guess-guess".into(),
            "a-new-passphrase-77".into(),
            now(),
            "op",
        )
        .await
        .unwrap();
        codes.push(r.unwrap_err().code);
    }
    assert_eq!(codes[..4], ["password.current_wrong"; 4]);
    assert_eq!(codes[4], "login.account_locked");
    let refused = outcomes_of(&w, "auth.password.changed").await;
    assert_eq!(refused.len(), 5, "every wrong guess is audited");
    assert!(refused.contains(&"refused:password.current_wrong".to_string()));
    assert_eq!(outcomes_of(&w, "auth.account.locked").await.len(), 1);
    // The lock ends the session, and the right password no longer signs in.
    assert!(session_of(&w, &s.token, now()).await.is_err());
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-2").await;
    assert_eq!(refused_code(&w, req).await, "login.account_locked");
}

#[tokio::test]
async fn a_session_idle_past_the_screen_lock_is_locked_by_the_server_and_audited() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    // 6.5 minutes without a request: past the five-minute lock, before the idle end.
    let later = now() + SignedDuration::from_secs(390);
    assert_eq!(
        session_of(&w, &s.token, later).await.unwrap_err(),
        SessionRefusal::Locked
    );
    let locks = audit(&w.store, "auth.session.locked").await;
    assert_eq!(locks.len(), 1);
    assert!(String::from_utf8_lossy(&locks[0].entry).contains("idle"));
    // Still locked a moment later (the lock is stored, not recomputed), until the password.
    let locked = locked_session(&w, &s.token, later).await;
    assert!(locked.session.locked);
    unlock_at(&w, &locked, PASSWORD, later).await.unwrap();
    assert!(session_of(&w, &s.token, later).await.is_ok());
}

#[tokio::test]
async fn csrf_refusals_locked_requests_and_malformed_sign_ins_are_audited() {
    let w = world().await;
    let s = sign_in_lin(&w, "flow-1").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    auth::refuse_request(&w.store, &who, "session.csrf", None, now(), "op-csrf")
        .await
        .unwrap();
    auth::refuse_request(&w.store, &who, "session.locked", None, now(), "op-locked")
        .await
        .unwrap();
    assert_eq!(
        outcomes_of(&w, "access.refused").await,
        ["refused:session.locked", "refused:session.csrf"]
    );
    let f = auth::refuse_malformed_login(&w.store, "lin.meiling", None, now(), "op-fmt")
        .await
        .unwrap();
    assert_eq!(f.code, "login.malformed_format");
    assert_eq!(
        last_failure_outcome(&w).await,
        "refused:login.malformed_format"
    );
}

#[tokio::test]
async fn the_demo_card_signs_only_for_someone_who_knows_the_password() {
    let w = world().await;
    let holder = |password: &str| {
        auth::demo_card_holder(
            &w.store,
            &w.ctx,
            "lin.meiling",
            auth::DemoCardProof::Password(password.to_string()),
            None,
            now(),
            "op",
        )
    };
    assert_eq!(
        holder("not-the-password").await.unwrap().unwrap_err().code,
        "login.wrong_password"
    );
    assert_eq!(failed_count(&w, w.lin).await, 1);
    assert_eq!(
        last_failure_outcome(&w).await,
        "refused:login.wrong_password"
    );
    assert!(holder(PASSWORD).await.unwrap().is_ok());
    let nobody = auth::demo_card_holder(
        &w.store,
        &w.ctx,
        "no.such.person",
        auth::DemoCardProof::Password(PASSWORD.into()),
        None,
        now(),
        "op",
    )
    .await
    .unwrap();
    assert!(nobody.is_err());
}

#[tokio::test]
async fn on_the_enrolment_page_the_demo_card_signs_for_the_holder_of_the_accounts_own_usable_code()
{
    use querywarden_app::enrolment::{CodeSettings, codes};
    use querywarden_domain::enrolment::{CodePurpose, RateLimit};
    let w = world().await;
    let desk = admin_desk(&w).await;
    let settings = CodeSettings {
        valid_for: SignedDuration::from_hours(24),
        rate_limit: RateLimit {
            max_failures: 4,
            window: SignedDuration::from_mins(15),
        },
    };
    let issue = |account: &'static str| {
        let (store, desk) = (&w.store, &desk);
        async move {
            codes::issue_code(
                store,
                desk,
                &settings,
                account,
                CodePurpose::Reset,
                "遺失密碼",
                now(),
                "op",
            )
            .await
            .unwrap()
            .unwrap()
            .code
            .display_once()
        }
    };
    let lin_code = issue("lin.meiling").await;
    let chen_code = issue("chen.jianhong").await;
    let holder = |account: &'static str, code: String, addr: &'static str| {
        auth::demo_card_holder(
            &w.store,
            &w.ctx,
            account,
            auth::DemoCardProof::EnrolmentCode { code, settings },
            Some(addr.into()),
            now(),
            "op",
        )
    };
    // Her own code: the card signs (and the code is not spent by signing).
    assert!(
        holder("lin.meiling", lin_code.clone(), "10.0.0.1")
            .await
            .unwrap()
            .is_ok()
    );
    assert!(
        holder("lin.meiling", lin_code.clone(), "10.0.0.1")
            .await
            .unwrap()
            .is_ok()
    );
    // Someone else's code, a made-up one and a malformed one: refused and audited, and no
    // password failure is counted against the account.
    let refused = holder("lin.meiling", chen_code.clone(), "10.0.0.2")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.code, "enrolment.unknown_code");
    assert_eq!(
        last_failure_outcome(&w).await,
        "refused:enrolment.unknown_code"
    );
    let made_up = holder("lin.meiling", "ABCD-EFGH-JKMN-PQRS".into(), "10.0.0.2")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(made_up.code, "enrolment.unknown_code");
    let malformed = holder("lin.meiling", "1234".into(), "10.0.0.2")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(malformed.code, "enrolment.malformed_code");
    assert_eq!(failed_count(&w, w.lin).await, 0);
    // A code superseded by a newer one stops working at the signer too.
    let newer = issue("lin.meiling").await;
    assert_eq!(
        holder("lin.meiling", lin_code, "10.0.0.3")
            .await
            .unwrap()
            .unwrap_err()
            .code,
        "enrolment.code_superseded"
    );
    // The guessing limit of the address applies, as at /enrol: three failures from
    // 10.0.0.2, one more makes four, and then even a good code is refused from there.
    let _ = holder("lin.meiling", "ZZZZ-ZZZZ-ZZZZ-ZZZZ".into(), "10.0.0.2").await;
    assert_eq!(
        holder("lin.meiling", newer.clone(), "10.0.0.2")
            .await
            .unwrap()
            .unwrap_err()
            .code,
        "enrolment.rate_limited"
    );
    assert!(
        holder("lin.meiling", newer, "10.0.0.4")
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_card_is_not_bound_to_an_account_whose_id_digits_are_not_on_record() {
    let w = world().await;
    let desk = admin_desk(&w).await;
    // huang.yating's staff record carries no ID digits (as for an account SCIM created).
    let huang = person(&w.store, "huang.yating").await;
    assert_eq!(w.store.person_id_last4(huang).await.unwrap(), None);
    let card = card::fixture_card(&w.ca, "card-b-key", "黃雅婷", "4321", now());
    let refused = bind_at(&w, &desk, "huang.yating", &card.certificate_der().unwrap())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "binding.no_id_on_record");
    // The card did not supply the digits it is checked against, and nothing was bound.
    assert_eq!(w.store.person_id_last4(huang).await.unwrap(), None);
    assert!(w.store.binding_of(huang).await.unwrap().is_none());
}

#[tokio::test]
async fn password_attempts_per_account_are_rate_limited_beyond_the_lockout() {
    let w = world().await;
    let limit = querywarden_app::limits::Limited::SignInAccount.limit().max;
    // The lockout stops wrong passwords after five; the limit bounds every attempt that
    // reaches the password check, right ones included.
    let mut codes = Vec::new();
    for i in 0..=limit {
        let req = request(
            &w,
            &w.lin_card,
            "lin.meiling",
            "wrong-password-0000",
            &format!("f{i}"),
        )
        .await;
        codes.push(refused_code(&w, req).await);
    }
    assert_eq!(codes.last().map(String::as_str), Some("rate.limited"));
    assert_eq!(last_failure_outcome(&w).await, "refused:rate.limited");
    // Only the five wrong passwords before the lock were counted as guesses.
    assert_eq!(failed_count(&w, w.lin).await, 5);
}

/// Uses up `what`'s minute for `key`, as other accounts' attempts from one address would.
fn use_up(w: &World, what: querywarden_app::limits::Limited, key: &str) {
    for _ in 0..what.limit().max {
        w.ctx.limits.admit(what, key, now());
    }
}

#[tokio::test]
async fn attempts_from_one_address_are_limited_on_sign_in_unlock_and_password_change() {
    use querywarden_app::limits::Limited;
    let w = world().await;
    let addr = "127.0.0.1";
    let s = sign_in_lin(&w, "flow-0").await;
    let who = session_of(&w, &s.token, now()).await.unwrap();
    assert_eq!(who.session.client_addr.as_deref(), Some(addr));

    // Sign-in: lin's own counter is far from its limit, the address's is spent.
    use_up(&w, Limited::SignInAddress, addr);
    let req = request(&w, &w.lin_card, "lin.meiling", PASSWORD, "flow-1").await;
    assert_eq!(refused_code(&w, req).await, "rate.limited");
    assert_eq!(last_failure_outcome(&w).await, "refused:rate.limited");

    // Password change: the right current password, a good new one; refused at the address,
    // and the old password still holds.
    use_up(&w, Limited::PasswordChangeAddress, addr);
    let r = auth::change_password(
        &w.store,
        &w.ctx,
        &who,
        PASSWORD.into(),
        "another-long-passphrase-2027".into(),
        now(),
        "op",
    )
    .await
    .unwrap();
    assert_eq!(r.unwrap_err().code, "rate.limited");

    // Unlock: the right password, refused at the address; the screen stays locked.
    auth::lock(&w.store, &who, now(), "op").await.unwrap();
    let locked = locked_session(&w, &s.token, now()).await;
    use_up(&w, Limited::UnlockAddress, addr);
    let r = unlock_at(&w, &locked, PASSWORD, now()).await;
    assert_eq!(r.unwrap_err().code, "rate.limited");
    assert_eq!(
        session_of(&w, &s.token, now()).await.unwrap_err(),
        SessionRefusal::Locked
    );
    // Another address is not held up by this one.
    assert_eq!(
        w.ctx
            .limits
            .admit(Limited::UnlockAddress, "10.0.0.9", now()),
        querywarden_domain::rate_limit::Admission::Admitted
    );
}
