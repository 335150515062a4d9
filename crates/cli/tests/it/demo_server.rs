//! `querywarden demo` from nothing: health, readiness, pages in zh-TW and English, the API,
//! and a restart that reuses the data.

use querywarden_testkit::browser::{fetch_json, fetch_text};
use querywarden_testkit::{Demo, rt};

#[test]
fn demo_starts_from_nothing_serves_and_reuses_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = rt();
    let records_first;
    {
        let demo = Demo::start_from_nothing(&data, &[]);
        let url = demo.url.clone();
        records_first = rt.block_on(async move {
            let c = reqwest::Client::new();
            let html = ready_and_home_explains_the_sign_in(&c, &url).await;
            the_reference_api_answers_and_checks_ids(&c, &url).await;
            pages_mask_ids_speak_english_and_redirect_nowhere_else(&c, &url).await;
            home_records(&html)
        });
        assert!(
            records_first >= 2,
            "initialisation and demo seeding are audited"
        );
    }
    // Second start: same data, nothing seeded twice.
    let demo = Demo::start_from_nothing(&data, &[]);
    let url = demo.url.clone();
    let html = rt.block_on(async move {
        reqwest::get(format!("{url}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(home_records(&html), records_first);
}

/// Ready with current migrations; the home page is no-store, framed by no one, in zh-TW with
/// the ROC date, and explains the sign-in (the demo's accounts are on its own start page).
/// Returns the home page.
async fn ready_and_home_explains_the_sign_in(c: &reqwest::Client, url: &str) -> String {
    let ready: serde_json::Value = fetch_json(c.get(format!("{url}/readyz"))).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["migrations_current"], true);

    let home = c.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(home.headers()["cache-control"], "no-store");
    assert!(
        home.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(home.headers().contains_key("x-request-id"));
    let html = home.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-Hant-TW\">"));
    assert!(html.contains("查調守門員"));
    assert!(html.contains("民國 "), "today's date in the ROC calendar");
    // Signed out, the home page explains the system and the sign-in; the demo's
    // accounts are on its own start page, the address the demo prints.
    assert!(
        !html.contains("lin.meiling"),
        "no staff list on the home page"
    );
    assert!(html.contains("id=\"how-to-sign-in\"") && html.contains("自然人憑證"));
    assert!(
        html.contains("href=\"/demo\""),
        "the way to the demo's accounts"
    );
    let start = fetch_text(c.get(format!("{url}/demo"))).await;
    assert!(start.contains("lin.meiling"), "demo accounts listed");
    assert!(start.contains("demo-password-115"), "with their password");
    html
}

/// The service items and units; the national ID check masks a good ID and refuses a bad
/// one or a malformed body with the error envelope.
async fn the_reference_api_answers_and_checks_ids(c: &reqwest::Client, url: &str) {
    let items: serde_json::Value = fetch_json(c.get(format!("{url}/api/v1/service-items"))).await;
    assert_eq!(items.as_array().unwrap().len(), 9);
    let units: serde_json::Value = fetch_json(c.get(format!("{url}/api/v1/units"))).await;
    let districts = units
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["kind"] == "district_office")
        .count();
    assert_eq!(districts, 38);

    let ok = c
        .post(format!("{url}/api/v1/national-ids/check"))
        .json(&serde_json::json!({"id": "A123456789"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body = ok.text().await.unwrap();
    assert!(body.contains("A12****789") && !body.contains("A123456789"));
    let bad = c
        .post(format!("{url}/api/v1/national-ids/check"))
        .json(&serde_json::json!({"id": "A123456788"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let err: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(err["error"]["code"], "national_id.check_digit");
    assert!(err["error"]["operation_id"].as_str().unwrap().len() >= 8);
    let garbage = c
        .post(format!("{url}/api/v1/national-ids/check"))
        .body("{nope")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
}

/// The ID tool masks, a missing page is 404 in words, English is served, the language switch
/// is no open redirect, and the OpenAPI document is there.
async fn pages_mask_ids_speak_english_and_redirect_nowhere_else(c: &reqwest::Client, url: &str) {
    let page = fetch_text(
        c.post(format!("{url}/tools/national-id"))
            .form(&[("id", "a123456789")]),
    )
    .await;
    assert!(page.contains("A12****789") && !page.contains("A123456789"));

    let missing = c.get(format!("{url}/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("找不到"));

    let en = fetch_text(
        c.get(format!("{url}/catalogue"))
            .header("cookie", "qw_lang=en"),
    )
    .await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Service items"));
    let switch = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{url}/lang/en?next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(switch.headers()["location"], "/", "no open redirect");

    let openapi: serde_json::Value = fetch_json(c.get(format!("{url}/api/openapi.json"))).await;
    assert_eq!(openapi["openapi"], "3.1.0");
}

/// The record count shown on the home page.
fn home_records(html: &str) -> u64 {
    let after = html.split("紀錄筆數：").nth(1).unwrap();
    after
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

/// The demo reads the same `QUERYWARDEN_<SECTION>__<KEY>` variables as `serve` (a load run
/// raises a limit this way): a value `serve` would refuse stops the demo, naming the key.
#[test]
fn demo_honours_the_configuration_variables() {
    let dir = tempfile::tempdir().unwrap();
    let o = querywarden_testkit::binary::command()
        .args(["demo", "--empty", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .env("QUERYWARDEN_LIMITS__UNLOCK_PER_ADDRESS", "0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("limits.unlock_per_address"), "{err}");
}
