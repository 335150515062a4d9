//! The citizen access desk over HTTP against the real binary (個人資料保護法 §10, §13): the
//! contact officer records a request (in person, and signed with the citizen's own demo
//! MOICA card), sees its ROC deadline and working days left, extends it once, produces the
//! report and records the answer; a supervisor withholds one registration (§10) and the
//! ethics office lists the mark; the reply letter lists what the report lists, the ID masked.
//! Page and API refuse the same things with the same codes, and the national ID never comes
//! back in a page or an answer.

use base64::Engine;
use querywarden_domain::roc_date::taipei_date;
use querywarden_pki::SignatureFormat;
use querywarden_pki::demo_ca::DemoCa;

use querywarden_testkit::people::{CHEN, LIN, ZHANG, ZHENG};
use querywarden_testkit::{
    Browser, Demo, Form2, approved, assert_page, code_of, location, rt, with_demo,
};

const SUBJECT: &str = "F131104093";

/// lin registers for herself, chen approves: the number.
async fn register(lin: &Browser, chen: &Browser, relevance: &str) -> String {
    let form = Form2 {
        subject_id: SUBJECT,
        relevance,
        ..Form2::default()
    };
    approved(lin, chen, &form).await
}

#[test]
fn the_contact_officer_records_extends_reports_and_answers_and_withholding_is_kept_from_the_citizen()
 {
    let people = [ZHANG, LIN, CHEN, ZHENG];
    with_demo(people, async |demo, [zhang, lin, chen, zheng]| {
        let ca_pem = std::fs::read_to_string(demo.data().join("demo-ca/ca.pem")).unwrap();

        let shown = register(
            &lin,
            &chen,
            "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入",
        )
        .await;
        let hidden = register(
            &lin,
            &chen,
            "兒少保護個案評估，須查核主要照顧者之就業狀況以擬定安置計畫",
        )
        .await;

        the_supervisor_withholds_one(&chen, &zheng, &lin, &hidden).await;
        let today = taipei_date(jiff::Timestamp::now()).format_short();
        bad_requests_are_refused_alike_and_not_kept(&zhang, &lin, &today).await;
        let no = the_officer_records_a_request_in_person(&zhang, &today).await;
        the_officer_extends_it_once(&zhang, &no).await;
        the_report_leaves_out_the_withheld(&zhang, &lin, &no, &shown, &hidden).await;
        the_reply_letter_lists_what_the_report_lists(&zhang, &lin, &no, &shown, &hidden).await;
        it_is_answered_once(&zhang, &no).await;
        the_citizens_own_card_proves_identity(&zhang, &ca_pem, &today).await;
    });
}

/// §10: the approving unit's supervisor withholds one registration; a mark without a
/// reason is refused with the same code on the page and the API. The ethics office sees the
/// mark; a querier is refused on both faces.
async fn the_supervisor_withholds_one(
    chen: &Browser,
    zheng: &Browser,
    lin: &Browser,
    hidden: &str,
) {
    chen.post_shows(
        "/withholdings",
        &[
            ("registration", hidden),
            ("disclose_on", "130/01/01"),
            ("reason", ""),
        ],
        422,
        "citizen_report.withholding_without_reason",
    )
    .await;
    assert_eq!(
        chen.api_post_code(
            &format!("/api/v1/registrations/{hidden}/withholding"),
            serde_json::json!({ "disclose_on": "130/01/01", "reason": "" })
        )
        .await,
        (422, "citizen_report.withholding_without_reason".into())
    );
    assert_eq!(
        chen.api_post_code(
            &format!("/api/v1/registrations/{hidden}/withholding"),
            serde_json::json!({ "disclose_on": "130/13/01", "reason": "家暴案件偵辦中" })
        )
        .await,
        (422, "roc_date.invalid_month".into())
    );
    chen.post_shows(
        "/withholdings",
        &[
            ("registration", hidden),
            ("disclose_on", "130/01/01"),
            ("reason", "家暴案件偵辦中"),
        ],
        200,
        "id=\"cr-notice\"",
    )
    .await;
    let page = zheng.page("/withholdings").await;
    assert!(
        page.contains(hidden) && page.contains("家暴案件偵辦中"),
        "{page}"
    );
    let j = zheng.api_get("/api/v1/withholdings").await;
    assert_eq!(j["withholdings"][0]["registration_no"], hidden);
    assert_eq!(lin.get("/withholdings").await.status(), 403);
    assert_eq!(
        code_of(lin.get("/api/v1/withholdings").await).await,
        (403, "citizen_report.not_allowed".into())
    );
}

/// Recording: bad input refused with the same codes on page and API, nothing kept; one who
/// is not the contact officer is refused.
async fn bad_requests_are_refused_alike_and_not_kept(zhang: &Browser, lin: &Browser, today: &str) {
    let bad = [
        (
            "F131104094",
            "in_person_id_card",
            today,
            "national_id.check_digit",
        ),
        (SUBJECT, "", today, "citizen_report.no_identity_check"),
        (
            SUBJECT,
            "in_person_id_card",
            "115/02/30",
            "roc_date.invalid_day",
        ),
        (
            SUBJECT,
            "moica_signed",
            today,
            "citizen_report.signature_missing",
        ),
    ];
    for (id, check, received, code) in bad {
        let r = zhang
            .post(
                "/citizen-requests",
                &[
                    ("national_id", id),
                    ("identity_check", check),
                    ("asked", "本人勞保資料被查調之紀錄"),
                    ("received", received),
                ],
                true,
            )
            .await;
        assert_eq!(r.status(), 422, "{code}");
        let page = r.text().await.unwrap();
        assert!(page.contains(code), "{code}: {page}");
        assert!(
            !page.contains(SUBJECT),
            "the ID is typed again, never echoed"
        );
        assert_eq!(
            zhang
                .api_post_code(
                    "/api/v1/citizen-requests",
                    serde_json::json!({ "national_id": id, "identity_check": check,
                    "asked": "本人勞保資料被查調之紀錄", "received": received })
                )
                .await,
            (422, code.to_string())
        );
    }
    let j = zhang.api_get("/api/v1/citizen-requests").await;
    assert_eq!(j["requests"], serde_json::json!([]));
    // Not the contact officer: refused.
    assert_eq!(
        lin.api_post_code(
            "/api/v1/citizen-requests",
            serde_json::json!({ "national_id": SUBJECT, "identity_check": "in_person_id_card",
                "asked": "x", "received": today })
        )
        .await,
        (403, "citizen_report.not_allowed".into())
    );
    assert_eq!(lin.get("/citizen-requests").await.status(), 403);
}

/// Recorded in person on the page: to the request, with its ROC deadline and working days
/// left. Returns the request's number.
async fn the_officer_records_a_request_in_person(zhang: &Browser, today: &str) -> String {
    let r = zhang
        .post(
            "/citizen-requests",
            &[
                ("national_id", SUBJECT),
                ("identity_check", "in_person_id_card"),
                ("asked", "本人勞保資料被查調之紀錄"),
                ("received", today),
            ],
            true,
        )
        .await;
    assert_eq!(r.status(), 303);
    let no = location(&r)
        .trim_start_matches("/citizen-requests/")
        .to_string();
    let page = zhang.page(&format!("/citizen-requests/{no}")).await;
    assert!(page.contains("id=\"cr-due\">民國 "), "{page}");
    assert!(!page.contains(SUBJECT));
    let list = zhang.page("/citizen-requests").await;
    assert!(list.contains(&no) && list.contains("cr-days-left"));
    let j = zhang
        .api_get(&format!("/api/v1/citizen-requests/{no}"))
        .await;
    let left = j["working_days_left"].as_i64().unwrap();
    assert!(
        (9..=15).contains(&left),
        "fifteen days hold 9 to 11 working days: {j}"
    );
    assert!(j["due_on"]["roc"].as_str().unwrap().starts_with("民國 "));

    no
}

/// Extension: a reason is needed (page), then once (page), never twice (API).
async fn the_officer_extends_it_once(zhang: &Browser, no: &str) {
    zhang
        .post_shows(
            &format!("/citizen-requests/{no}/extend"),
            &[("reason", " ")],
            422,
            "citizen_report.extension_without_reason",
        )
        .await;
    zhang
        .post_shows(
            &format!("/citizen-requests/{no}/extend"),
            &[("reason", "須調閱多個單位紀錄")],
            200,
            "須調閱多個單位紀錄",
        )
        .await;
    assert_eq!(
        zhang
            .api_post_code(
                &format!("/api/v1/citizen-requests/{no}/extension"),
                serde_json::json!({ "reason": "再延" })
            )
            .await,
        (422, "citizen_report.second_extension".into())
    );
}

/// The report: the shown registration is there, the withheld one is not; the officer sees
/// how many were left out, the citizen's part does not say. Only the contact officer
/// produces it.
async fn the_report_leaves_out_the_withheld(
    zhang: &Browser,
    lin: &Browser,
    no: &str,
    shown: &str,
    hidden: &str,
) {
    let r = zhang
        .post(&format!("/citizen-requests/{no}/report"), &[], true)
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("registration {shown}")), "{page}");
    assert!(!page.contains(&format!("registration {hidden}")));
    assert!(
        page.contains("id=\"cr-withheld\">2<"),
        "created and approved: {page}"
    );
    assert!(page.contains("民國 ") && page.contains("社會救助科"));
    assert!(!page.contains(SUBJECT));
    let r = zhang
        .api_post(
            &format!("/api/v1/citizen-requests/{no}/report"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["officer"]["withheld"], 2);
    assert!(j["report"].get("withheld").is_none(), "{j}");
    let citizen = j["report"].to_string();
    assert!(citizen.contains(shown) && !citizen.contains(hidden));
    assert!(!citizen.contains(SUBJECT));
    assert!(j["report"]["appendix"]["checkpoint"].is_string());
    assert_eq!(
        lin.api_post_code(
            &format!("/api/v1/citizen-requests/{no}/report"),
            serde_json::json!({})
        )
        .await,
        (403, "citizen_report.not_allowed".into())
    );
}

/// The reply letter (個資法 §13): the same entries as the report, the withheld one absent
/// and not counted, the ID masked; as a page and as the API's PDF, named by the request's
/// number. Anyone but the contact officer is answered "not found".
async fn the_reply_letter_lists_what_the_report_lists(
    zhang: &Browser,
    lin: &Browser,
    no: &str,
    shown: &str,
    hidden: &str,
) {
    let r = zhang.get(&format!("/documents/citizen-letter/{no}")).await;
    assert_eq!(r.status(), 200);
    let letter = r.text().await.unwrap();
    assert!(letter.contains("當事人查詢個人資料答復書"), "{letter}");
    assert!(
        letter.contains(shown) && !letter.contains(hidden),
        "{letter}"
    );
    assert!(letter.contains("F13****093") && !letter.contains(SUBJECT));
    let r = zhang
        .get(&format!("/api/v1/documents/citizen-letter/{no}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"citizen-letter-{no}.pdf\"").as_str()
    );
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    let r = lin
        .get(&format!("/api/v1/documents/citizen-letter/{no}"))
        .await;
    assert_eq!(code_of(r).await, (404, "documents.not_found".into()));
}

/// Answered once (API), a second time refused on the page.
async fn it_is_answered_once(zhang: &Browser, no: &str) {
    let r = zhang
        .api_post(
            &format!("/api/v1/citizen-requests/{no}/answer"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    zhang
        .post_shows(
            &format!("/citizen-requests/{no}/answer"),
            &[],
            422,
            "citizen_report.already_answered",
        )
        .await;
}

/// §10 identity by the citizen's own card (the demo CA stands in for MOICA): the subject's
/// card is accepted, another person's is refused.
async fn the_citizens_own_card_proves_identity(zhang: &Browser, ca_pem: &str, today: &str) {
    let ca = DemoCa::from_pem_bundle(ca_pem).unwrap();
    let now = jiff::Timestamp::now();
    let text = "本人王大同請求查詢本人勞保資料被查調之紀錄。";
    let sign = |last4: &str| {
        let card = ca.issue_citizen("王大同", last4, now).unwrap();
        base64::engine::general_purpose::STANDARD
            .encode(card.sign(text.as_bytes(), SignatureFormat::Pkcs7).unwrap())
    };
    let post = |signature: String| {
        zhang.api_post(
            "/api/v1/citizen-requests",
            serde_json::json!({ "national_id": SUBJECT, "identity_check": "moica_signed",
                "asked": "查詢紀錄", "received": today, "signed_text": text,
                "signature": signature }),
        )
    };
    let r = post(sign("1234")).await;
    assert_eq!(
        code_of(r).await,
        (422, "citizen_report.card_not_subjects".into())
    );
    let r = post(sign(&SUBJECT[6..])).await;
    assert_eq!(r.status(), 201);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["identity_check"], "moica_signed");
    assert!(j["signed_by_certificate"].is_string());
}

/// A free loopback address for the self-service listener.
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn the_self_service_listener_serves_only_its_own_routes_and_shows_a_citizen_their_report() {
    let addr = free_addr();
    let demo = Demo::start_with(&["--citizen-self-service", &addr]);
    let ss = format!("http://{addr}");
    let ca_pem = std::fs::read_to_string(demo.data().join("demo-ca/ca.pem")).unwrap();
    rt().block_on(async {
        let [lin, chen] = demo.sign_in_all(["lin.meiling", "chen.jianhong"]).await;
        let reg = register(
            &lin,
            &chen,
            "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入",
        )
        .await;
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        the_listener_serves_only_its_own_routes(&c, &ss, &lin).await;

        // A challenge, tied to this browser by its cookie.
        let challenge = async || {
            let r = c.get(format!("{ss}/")).send().await.unwrap();
            let flow = r
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| v.strip_prefix("qw_citizen="))
                .map(|v| v.split(';').next().unwrap().to_string())
                .unwrap();
            let page = r.text().await.unwrap();
            let nonce = page
                .split("name=\"nonce\" value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string();
            (flow, nonce)
        };
        let ca = DemoCa::from_pem_bundle(&ca_pem).unwrap();
        let now = jiff::Timestamp::now();
        let sign = |last4: &str, nonce: &str| {
            let card = ca.issue_citizen("王大同", last4, now).unwrap();
            base64::engine::general_purpose::STANDARD
                .encode(card.sign(nonce.as_bytes(), SignatureFormat::Pkcs7).unwrap())
        };
        let post = async |flow: &str, nonce: &str, signature: &str| {
            c.post(format!("{ss}/report"))
                .header("cookie", format!("qw_citizen={flow}"))
                .form(&[
                    ("national_id", SUBJECT),
                    ("nonce", nonce),
                    ("signature", signature),
                ])
                .send()
                .await
                .unwrap()
        };

        // The subject's own card: the report, without the ID or a withheld count.
        let (flow, nonce) = challenge().await;
        let signature = sign(&SUBJECT[6..], &nonce);
        let r = post(&flow, &nonce, &signature).await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"css-entries\""), "{page}");
        assert!(page.contains(&format!("registration {reg}")));
        assert!(!page.contains(SUBJECT));
        assert!(!page.contains("withheld"));
        // The same challenge again: spent.
        let r = post(&flow, &nonce, &signature).await;
        assert_page(r, 422, "citizen_report.challenge").await;
        // Another person's card.
        let (flow, nonce) = challenge().await;
        let r = post(&flow, &nonce, &sign("1234", &nonce)).await;
        assert_page(r, 422, "citizen_report.card_not_subjects").await;
        // Ten attempts an hour from one address; the eleventh is refused before any check.
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let r = post("x", "y", "z").await;
            statuses.push(r.status().as_u16());
        }
        assert_eq!(statuses[..7], [422; 7]);
        assert_eq!(statuses[7], 429);
    });
}

/// The self-service listener answers (after a moment, perhaps), with no staff page or API on
/// it, and its page is not on the staff listener.
async fn the_listener_serves_only_its_own_routes(c: &reqwest::Client, ss: &str, lin: &Browser) {
    // The listener may take a moment after the staff site.
    let mut page = None;
    for _ in 0..100 {
        if let Ok(r) = c.get(format!("{ss}/")).send().await {
            page = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = page.expect("the self-service listener answers");
    assert_eq!(r.status(), 200);
    // No staff page or API is reachable on this listener.
    for path in [
        "/login",
        "/registrations",
        "/citizen-requests",
        "/withholdings",
        "/api/v1/me",
        "/api/v1/citizen-requests",
        "/api/openapi.json",
        "/demo/card/sign",
    ] {
        let r = c.get(format!("{ss}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path} on the self-service listener");
    }
    // …and its page is not on the staff listener.
    assert_eq!(lin.get("/report").await.status(), 404);
}
