//! Go-live, as the bureau's IT group would do it (§2, §3, §5): a real `querywarden serve` on
//! an empty data directory; `init` records the administrator and deputy; the administrator
//! enrols through the web with a card; the organisation and staff come from CSV files; a
//! querier and two supervisors enrol with codes the administrator issues; Form 1 grants the
//! querier; and register → approve → execute → view runs against the BLI simulator. The
//! revocation list comes from a configured address, fetched by the server itself. At the
//! end the audit trail verifies.
//!
//! The cards are issued by the demo CA's card signer with fixed test keys — a test fixture
//! only; the server runs in production mode and knows nothing of the demo.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use querywarden_domain::roc_date::taipei_date;
use querywarden_pki::demo_ca::{DemoCa, DemoCard};

use querywarden_testkit::binary::{command as bin, stderr, stdout};
use querywarden_testkit::browser::{client, post_card_signed};
use querywarden_testkit::browser::{fetch_json, fetch_text};
use querywarden_testkit::{Browser, Form2, Served, card, executed, rt};

const ADMIN_ID: &str = "E100201002";
const DEPUTY_ID: &str = "E200301009";
const LIN_ID: &str = "A100131234";
const CHEN_ID: &str = "F100401003";
const ZHANG_ID: &str = "E200501009";
const PASSWORD: &str = "a-card-and-a-long-secret-115";

fn card(ca: &DemoCa, key: &str, name: &str, id: &str) -> DemoCard {
    ca.issue_citizen_with(
        card::fixture_key(key),
        name,
        &id[id.len() - 4..],
        jiff::Timestamp::now(),
        Default::default(),
    )
    .unwrap()
}

/// A one-file HTTP server standing in for MOICA's CRL distribution point.
fn crl_server(der: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    der.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&der);
        }
    });
    format!("http://{addr}/moica-g3.crl")
}

fn cli(args: &[&str], config: &Path) -> (i32, String) {
    let o = bin()
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

/// The enrolment form with `code`, the golive password and the nonce signed by `card`.
async fn enrol(url: &str, code: &str, card: &DemoCard) -> (u16, String) {
    let r = post_card_signed(
        url,
        "/enrol",
        &[
            ("code", code),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ],
        card,
    )
    .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// `account` signs in with their own card and password (no demo signer in production).
async fn sign_in(url: &str, account: &str, card: &DemoCard) -> Browser {
    Browser::sign_in_with_card_and_password(url, account, PASSWORD, card).await
}

/// A file upload on the administrator's enrolment desk.
async fn upload(who: &Browser, path: &str, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("csrf", who.csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let r = who.multipart(path, form).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Issues a code on the administrator's page and reads it off the page (shown once).
async fn issue_code(who: &Browser, account: &str) -> String {
    let (s, _, page) = who
        .submit(
            "/admin/enrolment/codes",
            &[
                ("account", account),
                ("purpose", "enrol"),
                ("reason", "新進"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    code_on(&page)
}

fn code_on(text: &str) -> String {
    let start = text.find("id=\"the-code\">").expect("a code is shown") + 14;
    text[start..start + 19].to_string()
}

/// The first code printed by `init` for `account`.
fn init_code(out: &str, account: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(account) && l.matches('-').count() >= 3)
        .unwrap_or_else(|| panic!("no code for {account} in {out}"));
    line.split_whitespace().last().unwrap().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn an_empty_server_becomes_a_working_bureau_with_own_cards_and_no_shared_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = jiff::Timestamp::now();
    let ca = card::fixture_ca(now);
    let anchors = write(dir.path(), "moica-anchors.pem", &ca.anchors_pem());
    let crl_der = ca.crl(&[], now).unwrap();
    let crl_url = crl_server(crl_der.clone());

    // The BLI simulator, on its own runtime for the whole test.
    let (sim_rt, sim) = crate::simulator_on_own_runtime();

    let config = write_config(dir.path(), &data, &anchors, &crl_url, &sim.base_url());
    let server = Served::start(&config);
    let url = server.url.clone();

    let admin_card = card(&ca, "card-a-key", "吳志明", ADMIN_ID);
    let lin_card = card(&ca, "card-b-key", "林美玲", LIN_ID);
    let chen_card = card(&ca, "other-g3-key", "陳建宏", CHEN_ID);
    let zhang_card = card(&ca, "other-root-key", "張淑慧", ZHANG_ID);
    // Someone else's card: right CA, wrong person.
    let stranger_card = card(&ca, "g2-key", "王小明", "A123456789");

    let admin_code = init_records_the_administrator_and_deputy(dir.path(), &config);

    rt().block_on(async {
        the_server_fetches_its_revocation_list(&url).await;
        the_administrator_enrols_on_the_web(&url, &admin_code, &admin_card, &stranger_card).await;
    });

    let (units, bad_units) = the_organisation_and_staff_come_from_csv(dir.path(), &config);

    rt().block_on(async {
        let admin = sign_in(&url, "wu.zhiming", &admin_card).await;
        the_desk_takes_uploads_and_refuses_bad_ones(&admin, &units, &bad_units, &crl_der).await;
        the_staff_enrol_with_issued_codes(
            &url,
            &admin,
            &admin_card,
            &lin_card,
            &chen_card,
            &zhang_card,
        )
        .await;
        let lin = sign_in(&url, "lin.meiling", &lin_card).await;
        let chen = sign_in(&url, "chen.jianhong", &chen_card).await;
        the_api_refuses_what_the_page_refuses(&admin, &lin).await;
        let zhang = sign_in(&url, "zhang.shuhui", &zhang_card).await;
        form_one_grants_the_querier(&lin, &chen, &admin, &zhang).await;

        // 6. register → approve → execute → view, against the simulator.
        let no = executed(&lin, &chen, &Form2::default()).await;
        let (s, page) = lin
            .read(&format!("/registrations/{no}/results/C0101"))
            .await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("class=\"watermark\""), "{page}");
        assert!(!page.contains("F131104093"));
    });

    drop(server);
    // 7. The trail verifies, and it holds the refusals as well as the successes.
    let o = bin()
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    drop(sim);
    drop(sim_rt);
}

/// The production configuration: the data directory, the card trust anchors with a
/// required revocation list from `crl_url`, the BLI simulator, the deputy administrator.
fn write_config(dir: &Path, data: &Path, anchors: &Path, crl_url: &str, sim: &str) -> PathBuf {
    write(
        dir,
        "querywarden.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\
         [storage]\ndata_dir = \"{data}\"\n\
         [auth]\ntrust_anchors = \"{anchors}\"\nrevocation = \"require_crl\"\n\
         [crl]\nurls = [\"{crl_url}\"]\n\
         [bli]\nmode = \"connected\"\nbase_url = \"{sim}\"\n\
         [permission]\ndeputy_administrator = \"li.jiarong\"\n\
         [enrolment]\nmax_failures = 8\n\
         [log]\nformat = \"json\"\n",
            data = data.display(),
            anchors = anchors.display(),
        ),
    )
}

/// Step 1: `init` on the server: the administrator and the deputy, a code each, printed once; run
/// twice, refused and nothing changed. Returns the administrator's code.
fn init_records_the_administrator_and_deputy(dir: &Path, config: &Path) -> String {
    let officers = write(
        dir,
        "officers.toml",
        &format!(
            "[administrator]\naccount = \"wu.zhiming\"\nname = \"吳志明\"\ntitle = \"資訊管理師\"\n\
         unit = \"it-group\"\nnational_id = \"{ADMIN_ID}\"\negov_account = \"egov-wu\"\n\
         [deputy]\naccount = \"li.jiarong\"\nname = \"李佳蓉\"\ntitle = \"專員\"\n\
         unit = \"it-group\"\nnational_id = \"{DEPUTY_ID}\"\negov_account = \"egov-li\"\n"
        ),
    );
    let officers_arg = officers.to_str().unwrap();
    let (code, out) = cli(&["init", "--officers", officers_arg], config);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(ADMIN_ID) && !out.contains(DEPUTY_ID), "{out}");
    let admin_code = init_code(&out, "wu.zhiming");
    // Run twice: refused, nothing changed.
    let (code, out) = cli(&["init", "--officers", officers_arg], config);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("init.already_initialised"), "{out}");
    admin_code
}

/// The server fetched the revocation list itself; /readyz shows its age.
async fn the_server_fetches_its_revocation_list(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready: serde_json::Value = fetch_json(client().get(format!("{url}/readyz"))).await;
        if ready["crls"].as_array().is_some_and(|c| !c.is_empty()) {
            assert_eq!(ready["crls"][0]["stale"], false, "{ready}");
            break;
        }
        assert!(Instant::now() < deadline, "no CRL in force: {ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Step 2: The administrator enrols through the web. A card that is not theirs is refused and the
/// code still works; after use it is spent.
async fn the_administrator_enrols_on_the_web(
    url: &str,
    admin_code: &str,
    admin_card: &DemoCard,
    stranger_card: &DemoCard,
) {
    let page = fetch_text(client().get(format!("{url}/enrol"))).await;
    assert!(page.contains("id=\"enrol-form\""), "{page}");
    let (s, page) = enrol(url, admin_code, stranger_card).await;
    assert_eq!(s, 422);
    assert!(page.contains("enrolment.name_mismatch"), "{page}");
    let (s, page) = enrol(url, "ABCD-EFGH-JKMN-PQRS", admin_card).await;
    assert_eq!(s, 422);
    assert!(page.contains("enrolment.unknown_code"), "{page}");
    let (s, page) = enrol(url, admin_code, admin_card).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("id=\"enrol-done\""), "{page}");
    let (s, page) = enrol(url, admin_code, admin_card).await;
    assert_eq!(s, 422);
    assert!(page.contains("enrolment.code_used"), "{page}");
    let admin = sign_in(url, "wu.zhiming", admin_card).await;
    let (s, page) = admin.read("/admin/enrolment").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("id=\"crl-table\"") && page.contains("DEMO"),
        "{page}"
    );
}

/// Step 3: The organisation and the staff from CSV files, on the command line: a bad units file is
/// refused line by line, the good one re-imported changes nothing. Returns the good and the bad
/// units files.
fn the_organisation_and_staff_come_from_csv(dir: &Path, config: &Path) -> (PathBuf, PathBuf) {
    let staff = write(
        dir,
        "staff.csv",
        &format!(
            "account,national_id,name,unit,title,status,effective_date\n\
         lin.meiling,{LIN_ID},林美玲,social-assistance,社會工作師,active,2026-01-02\n\
         chen.jianhong,{CHEN_ID},陳建宏,social-assistance,科長,active,2026-01-02\n\
         zhang.shuhui,{ZHANG_ID},張淑慧,secretariat,秘書室主任,active,2026-01-02\n"
        ),
    );
    let (code, out) = cli(&["staff", "import", staff.to_str().unwrap()], config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("created 3"), "{out}");
    let bad_units = write(
        dir,
        "bad-units.csv",
        "unit_id,name,kind,parent,supervisor,deputy\n\
     sa-team-1,救助一股,bureau_section,no-such-unit,,\n\
     social-assistance,社會救助科,bureau_section,,not.staff,\n",
    );
    let (code, out) = cli(&["units", "import", bad_units.to_str().unwrap()], config);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 2") && out.contains("line 3"), "{out}");
    let units = write(
        dir,
        "units.csv",
        "unit_id,name,kind,parent,supervisor,deputy\n\
     social-assistance,社會救助科,bureau_section,,chen.jianhong,lin.meiling\n\
     sa-team-1,救助一股,bureau_section,social-assistance,,\n\
     secretariat,秘書室,bureau_section,,zhang.shuhui,\n",
    );
    let (code, out) = cli(&["units", "import", units.to_str().unwrap()], config);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("units added 1") && out.contains("supervisors 2"),
        "{out}"
    );
    // Re-importing the same file changes nothing.
    let (code, out) = cli(&["units", "import", units.to_str().unwrap()], config);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("units added 0")
            && out.contains("updated 0")
            && out.contains("supervisors 0")
            && out.contains("deputies 0"),
        "{out}"
    );
    (units, bad_units)
}

/// Step 4: The administrator's desk: the same units file uploaded again changes nothing, a bad one
/// is refused line by line; a revocation list file is taken offline too.
async fn the_desk_takes_uploads_and_refuses_bad_ones(
    admin: &Browser,
    units: &Path,
    bad_units: &Path,
    crl_der: &[u8],
) {
    let (s, page) = upload(
        admin,
        "/admin/enrolment/units",
        "units.csv",
        std::fs::read(units).unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("id=\"upload-done\"") && page.contains("/ +0 / ~0 / 0 / 0"),
        "{page}"
    );
    let (s, page) = upload(
        admin,
        "/admin/enrolment/units",
        "bad.csv",
        std::fs::read(bad_units).unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("第 2") && page.contains("第 3"), "{page}");
    let (s, page) = upload(admin, "/admin/enrolment/crl", "moica.crl", crl_der.to_vec()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("id=\"upload-done\""), "{page}");
    let (s, page) = upload(admin, "/admin/enrolment/crl", "junk.crl", b"junk".to_vec()).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("pki.malformed"), "{page}");
}

/// The administrator issues codes (not for an unknown account); the querier and the
/// supervisors enrol, each with their own card only; guessing codes is limited.
async fn the_staff_enrol_with_issued_codes(
    url: &str,
    admin: &Browser,
    admin_card: &DemoCard,
    lin_card: &DemoCard,
    chen_card: &DemoCard,
    zhang_card: &DemoCard,
) {
    let (s, _, page) = admin
        .submit(
            "/admin/enrolment/codes",
            &[
                ("account", "nobody.here"),
                ("purpose", "enrol"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("enrolment.unknown_account"), "{page}");
    for (account, card) in [
        ("lin.meiling", lin_card),
        ("chen.jianhong", chen_card),
        ("zhang.shuhui", zhang_card),
    ] {
        let code = issue_code(admin, account).await;
        // Another person's card with this code: refused.
        let (s, page) = enrol(url, &code, admin_card).await;
        assert_eq!(s, 422, "{page}");
        let (s, page) = enrol(url, &code, card).await;
        assert_eq!(s, 200, "{account}: {page}");
    }
    // Guessing is limited: after 8 failures from one address, even a try is refused.
    for _ in 0..2 {
        let (s, _) = enrol(url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", lin_card).await;
        assert_eq!(s, 422);
    }
    let (s, page) = enrol(url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", lin_card).await;
    assert_eq!(s, 429);
    assert!(page.contains("enrolment.rate_limited"), "{page}");
}

/// The JSON API refuses what the page refuses, with the same code; only the desk may issue
/// codes. The API shows the revocation lists in force.
async fn the_api_refuses_what_the_page_refuses(admin: &Browser, lin: &Browser) {
    let (s, e) = admin
        .call_post(
            "/api/v1/enrolment/codes",
            serde_json::json!({ "account": "nobody.here", "purpose": "enrol" }),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("enrolment.unknown_account"))
    );
    let (s, e) = lin
        .call_post(
            "/api/v1/enrolment/codes",
            serde_json::json!({ "account": "chen.jianhong", "purpose": "reset", "reason": "x" }),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (403, Some("permission.not_administrator"))
    );
    let (s, body) = admin.read("/api/v1/enrolment/crls").await;
    assert_eq!(s, 200, "{body}");
    let crls: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(crls["lists"][0]["stale"], false, "{crls}");
    assert!(crls["fetches"][0]["error"].is_null(), "{crls}");
}

/// Step 5: Form 1: lin applies; her supervisor, the administrator and the administrator's
/// supervisor sign; grants follow.
async fn form_one_grants_the_querier(
    lin: &Browser,
    chen: &Browser,
    admin: &Browser,
    zhang: &Browser,
) {
    let (s, created) = lin
        .call_post(
            "/api/v1/permissions/applications",
            serde_json::json!({
                "kind": "new", "reason": "辦理低收入戶資格審查", "national_id": LIN_ID,
                "phone": "07-7344800", "email": "lin@example.org", "egov_account": "egov-lin",
                "items": ["C0101"], "read_pdpa_and_rules": true,
                "has_certificate_and_reader": true,
            }),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let base = format!("/api/v1/permissions/applications/{}", created["id"]);
    let (s, j) = lin
        .call_post(&format!("{base}/submit"), serde_json::Value::Null)
        .await;
    assert_eq!(s, 200, "{j}");
    let today = taipei_date(jiff::Timestamp::now()).format_short();
    for (who, body) in [
        (chen, serde_json::json!({ "decision": "approve" })),
        (
            admin,
            serde_json::json!({ "decision": "approve", "effective_from": today }),
        ),
        (zhang, serde_json::json!({ "decision": "approve" })),
    ] {
        let (s, j) = who.call_post(&format!("{base}/decision"), body).await;
        assert_eq!(s, 200, "{j}");
    }
}
