//! Query permissions (§2, Form 1) over HTTP against the real binary: one application through
//! the whole chain on the pages (applicant → supervisor → administrator → countersign) ending
//! in grants; a refusal and the JSON API; separation of duties (one's own application, the
//! administrator's own going to the deputy); CSRF; and the SCIM endpoint's token and payload
//! checks.

use querywarden_domain::roc_date::taipei_date;

use super::sign_in_http::{client, cookie_value, login, set_cookies};
use super::support::{reqwest::rt, spawn_demo_fast};

/// lin.meiling's invented national ID (its last four digits are on her demo staff record).
const LIN_ID: &str = "A100131234";
/// wu.zhiming's.
const WU_ID: &str = "F100144567";
/// The demo's SCIM bearer token.
const SCIM_TOKEN: &str = "demo-scim-token-115";

struct Who {
    cookie: String,
    csrf: String,
}

async fn session(url: &str, account: &str) -> Who {
    let r = login(url, account, "demo-password-115", "").await;
    assert_eq!(r.status(), 303, "{account} could not sign in");
    let cookie = format!(
        "qw_session={}",
        cookie_value(&set_cookies(&r), "qw_session").unwrap()
    );
    let me: serde_json::Value = client()
        .get(format!("{url}/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Who {
        cookie,
        csrf: me["csrf_token"].as_str().unwrap().to_string(),
    }
}

async fn get(url: &str, who: &Who, path: &str) -> (u16, String) {
    let r = client()
        .get(format!("{url}{path}"))
        .header("cookie", &who.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A form POST with the session's CSRF token; answers status, `Location` and body.
async fn post(url: &str, who: &Who, path: &str, pairs: &[(&str, &str)]) -> (u16, String, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf", &who.csrf)];
    form.extend_from_slice(pairs);
    let r = client()
        .post(format!("{url}{path}"))
        .header("cookie", &who.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, location, r.text().await.unwrap())
}

async fn api(
    url: &str,
    who: &Who,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = client()
        .request(method, format!("{url}{path}"))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Form 1 fields. The demo gives lin.meiling every item already (a Form 1 of its own), so her
/// application here is an item change (異動查調項目) down to the items named.
fn form_one(
    national_id: &'static str,
    items: &[&'static str],
) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("kind", "change_items"),
        ("reason", "辦理低收入戶資格審查"),
        ("national_id", national_id),
        ("phone", "07-7344800"),
        ("email", "someone@example.org"),
        ("egov_account", "egov-user"),
        ("read_pdpa", "yes"),
        ("has_card", "yes"),
    ];
    for i in items {
        v.push(("items", i));
    }
    v
}

/// The application id from a redirect to `/permissions/applications/{id}?done=…`.
fn app_id(location: &str) -> String {
    location
        .strip_prefix("/permissions/applications/")
        .and_then(|r| r.split('?').next())
        .unwrap_or_else(|| panic!("not an application page: {location}"))
        .to_string()
}

fn today_short() -> String {
    taipei_date(jiff::Timestamp::now()).format_short()
}

#[test]
fn an_application_goes_through_the_whole_chain_on_the_pages_and_becomes_grants() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let lin = session(&url, "lin.meiling").await;
        let (s, page) = get(&url, &lin, "/permissions/apply").await;
        assert_eq!(s, 200);
        assert!(page.contains("C0101") && page.contains("林美玲"), "{page}");

        // A refused form shows the rule and its code, and never echoes the national ID.
        let mut bad = form_one(LIN_ID, &["C0101"]);
        bad.retain(|(k, _)| *k != "read_pdpa");
        let (s, _, _) = post(&url, &lin, "/permissions/apply", &bad).await;
        assert_eq!(s, 303, "a draft may lack the confirmations");
        let mut wrong_id = form_one("A123456789", &["C0101"]);
        wrong_id.push(("phone", "07-1"));
        let (s, _, body) = post(&url, &lin, "/permissions/apply", &wrong_id).await;
        assert_eq!(s, 422);
        assert!(body.contains("permission.national_id_mismatch"), "{body}");
        assert!(!body.contains("A123456789"), "the ID is not echoed back");

        let (s, location, _) = post(
            &url,
            &lin,
            "/permissions/apply",
            &form_one(LIN_ID, &["C0101", "B0101"]),
        )
        .await;
        assert_eq!(s, 303);
        let id = app_id(&location);
        let view = format!("/permissions/applications/{id}");
        let (s, page) = get(&url, &lin, &location).await;
        assert_eq!(s, 200);
        assert!(page.contains("A10****234"), "masked ID shown");
        assert!(!page.contains(LIN_ID), "never the full ID");
        assert!(page.contains("草稿") && page.contains("app-submit"));
        let (s, _, _) = post(&url, &lin, &format!("{view}/submit"), &[]).await;
        assert_eq!(s, 303);
        // Double submission is refused with its code.
        let (s, _, body) = post(&url, &lin, &format!("{view}/submit"), &[]).await;
        assert_eq!(s, 422);
        assert!(body.contains("permission.already_submitted"), "{body}");
        // SoD: lin cannot approve her own application.
        let (s, _, body) = post(
            &url,
            &lin,
            &format!("{view}/decide"),
            &[("decision", "approve")],
        )
        .await;
        assert_eq!(s, 403);
        assert!(body.contains("sod.own_application"), "{body}");

        // 1. The unit supervisor.
        let chen = session(&url, "chen.jianhong").await;
        let (_, inbox) = get(&url, &chen, "/permissions/inbox").await;
        assert!(inbox.contains(&view), "{inbox}");
        let (_, page) = get(&url, &chen, &view).await;
        assert!(page.contains("decide-form"));
        let (s, _, _) = post(
            &url,
            &chen,
            &format!("{view}/decide"),
            &[("decision", "approve"), ("comment", "同意")],
        )
        .await;
        assert_eq!(s, 303);
        // Not chen's step any more.
        let (s, _, body) = post(
            &url,
            &chen,
            &format!("{view}/decide"),
            &[("decision", "approve")],
        )
        .await;
        assert_eq!(s, 403, "{body}");

        // 2. The administrator, effective today (a date in the past is refused).
        let wu = session(&url, "wu.zhiming").await;
        let (_, inbox) = get(&url, &wu, "/permissions/inbox").await;
        assert!(inbox.contains(&view));
        let (s, _, body) = post(
            &url,
            &wu,
            &format!("{view}/decide"),
            &[("decision", "approve"), ("effective_from", "100/01/01")],
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains("permission.effective_date_in_past"), "{body}");
        let today = today_short();
        let (s, _, _) = post(
            &url,
            &wu,
            &format!("{view}/decide"),
            &[("decision", "approve"), ("effective_from", &today)],
        )
        .await;
        assert_eq!(s, 303);

        // 3. The countersign.
        let zhang = session(&url, "zhang.shuhui").await;
        let (_, inbox) = get(&url, &zhang, "/permissions/inbox").await;
        assert!(inbox.contains(&view));
        let (s, location, _) = post(
            &url,
            &zhang,
            &format!("{view}/decide"),
            &[("decision", "approve")],
        )
        .await;
        assert_eq!(s, 303);
        assert!(location.ends_with("done=decided"));

        let (_, page) = get(&url, &lin, &view).await;
        assert!(page.contains("data-state=\"approved\""), "{page}");
        for who in ["陳建宏", "吳志明", "張淑慧"] {
            assert!(page.contains(who), "{who} signed");
        }
        assert!(page.contains("民國 "), "ROC dates");

        // lin's grants show the items; the API says they are in force.
        let (_, grants) = get(&url, &lin, "/permissions/grants").await;
        assert!(
            grants.contains("C0101") && grants.contains("B0101"),
            "{grants}"
        );
        let (s, json) = api(
            &url,
            &lin,
            reqwest::Method::GET,
            "/api/v1/permissions/grants",
            None,
        )
        .await;
        assert_eq!(s, 200);
        let mut in_force: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["in_force"] == true)
            .map(|g| g["item"].as_str().unwrap())
            .collect();
        in_force.sort_unstable();
        assert_eq!(in_force, ["B0101", "C0101"], "{json}");
        assert!(
            grants.contains("data-status=\"ended\""),
            "the other items ended"
        );

        // The administrator's overview, filtered; nobody else may see it.
        let (s, page) = get(
            &url,
            &wu,
            "/permissions/admin/grants?unit=social-assistance&item=C0101&status=active",
        )
        .await;
        assert_eq!(s, 200);
        assert!(page.contains("林美玲") && page.contains("C0101"));
        let (_, page) = get(&url, &wu, "/permissions/admin/grants?unit=ethics").await;
        assert!(page.contains("grants-empty"));
        let (s, _) = get(&url, &lin, "/permissions/admin/grants").await;
        assert_eq!(s, 403);
        let (s, json) = api(
            &url,
            &lin,
            reqwest::Method::GET,
            "/api/v1/permissions/admin/grants",
            None,
        )
        .await;
        assert_eq!(s, 403);
        assert_eq!(json["error"]["code"], "permission.not_administrator");
    });
}

#[test]
fn refusal_withdrawal_csrf_and_the_administrators_own_application_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let lin = session(&url, "lin.meiling").await;
        let body = serde_json::json!({
            "kind": "new", "reason": "辦理急難救助", "national_id": LIN_ID,
            "phone": "07-7344800", "email": "lin@example.org", "egov_account": "egov-lin",
            "items": ["C0101"], "read_pdpa_and_rules": true, "has_certificate_and_reader": true,
        });

        let (_, mine) = api(
            &url,
            &lin,
            reqwest::Method::GET,
            "/api/v1/permissions/applications",
            None,
        )
        .await;
        let before = mine.as_array().unwrap().len();

        // CSRF: without the header (API) or the field (page), nothing happens.
        let r = client()
            .post(format!("{url}/api/v1/permissions/applications"))
            .header("cookie", &lin.cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = client()
            .post(format!("{url}/permissions/apply"))
            .header("cookie", &lin.cookie)
            .form(&form_one(LIN_ID, &["C0101"]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let (_, mine) = api(
            &url,
            &lin,
            reqwest::Method::GET,
            "/api/v1/permissions/applications",
            None,
        )
        .await;
        assert_eq!(
            mine.as_array().unwrap().len(),
            before,
            "nothing was written"
        );

        // Unknown fields and unknown items are refused with stable codes.
        let mut extra = body.clone();
        extra["surprise"] = serde_json::json!(1);
        let (s, e) = api(
            &url,
            &lin,
            reqwest::Method::POST,
            "/api/v1/permissions/applications",
            Some(extra),
        )
        .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (400, Some("request.malformed"))
        );
        let mut unknown = body.clone();
        unknown["items"] = serde_json::json!(["Z9999"]);
        let (s, e) = api(
            &url,
            &lin,
            reqwest::Method::POST,
            "/api/v1/permissions/applications",
            Some(unknown),
        )
        .await;
        assert_eq!(s, 422, "{e}");

        // A refusal at the supervisor's step ends the application with its reason.
        let (s, created) = api(
            &url,
            &lin,
            reqwest::Method::POST,
            "/api/v1/permissions/applications",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        assert_eq!(created["national_id_masked"], "A10****234");
        let id = created["id"].as_i64().unwrap();
        let base = format!("/api/v1/permissions/applications/{id}");
        let (s, _) = api(
            &url,
            &lin,
            reqwest::Method::POST,
            &format!("{base}/submit"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let chen = session(&url, "chen.jianhong").await;
        let (_, inbox) = api(
            &url,
            &chen,
            reqwest::Method::GET,
            "/api/v1/permissions/inbox",
            None,
        )
        .await;
        assert_eq!(inbox[0]["application"]["id"], id);
        assert_eq!(inbox[0]["step"], "unit_supervisor");
        let (s, e) = api(
            &url,
            &chen,
            reqwest::Method::POST,
            &format!("{base}/decision"),
            Some(serde_json::json!({ "decision": "refuse" })),
        )
        .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (422, Some("permission.reason_required"))
        );
        let (s, done) = api(
            &url,
            &chen,
            reqwest::Method::POST,
            &format!("{base}/decision"),
            Some(serde_json::json!({ "decision": "refuse", "comment": "業務上不需要" })),
        )
        .await;
        assert_eq!(s, 200, "{done}");
        assert_eq!(done["application"]["state"], "refused");
        let (_, page) = get(&url, &lin, &format!("/permissions/applications/{id}")).await;
        assert!(
            page.contains("業務上不需要"),
            "the reason is shown to the applicant"
        );

        // Withdrawal before the last step.
        let (_, second) = api(
            &url,
            &lin,
            reqwest::Method::POST,
            "/api/v1/permissions/applications",
            Some(body.clone()),
        )
        .await;
        let second = second["id"].as_i64().unwrap();
        let view = format!("/permissions/applications/{second}");
        let (s, _, _) = post(&url, &lin, &format!("{view}/submit"), &[]).await;
        assert_eq!(s, 303);
        let (s, _, _) = post(&url, &lin, &format!("{view}/withdraw"), &[]).await;
        assert_eq!(s, 303);
        let (_, page) = get(&url, &lin, &view).await;
        assert!(page.contains("data-state=\"withdrawn\""));

        // The administrator's own application: his unit's supervisor consents, then it goes to
        // the deputy (li.guowei), never to himself.
        let wu = session(&url, "wu.zhiming").await;
        let mut wu_body = body.clone();
        wu_body["national_id"] = serde_json::json!(WU_ID);
        let (s, created) = api(
            &url,
            &wu,
            reqwest::Method::POST,
            "/api/v1/permissions/applications",
            Some(wu_body),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        let wid = created["id"].as_i64().unwrap();
        let wbase = format!("/api/v1/permissions/applications/{wid}");
        api(
            &url,
            &wu,
            reqwest::Method::POST,
            &format!("{wbase}/submit"),
            None,
        )
        .await;
        let zhang = session(&url, "zhang.shuhui").await;
        let (s, _) = api(
            &url,
            &zhang,
            reqwest::Method::POST,
            &format!("{wbase}/decision"),
            Some(serde_json::json!({ "decision": "approve" })),
        )
        .await;
        assert_eq!(s, 200);
        let (s, e) = api(
            &url,
            &wu,
            reqwest::Method::POST,
            &format!("{wbase}/decision"),
            Some(serde_json::json!({ "decision": "approve", "effective_from": today_short() })),
        )
        .await;
        assert_eq!(s, 403);
        assert_eq!(e["error"]["code"], "sod.administrator_own_application");
        let li = session(&url, "li.guowei").await;
        let (_, inbox) = api(
            &url,
            &li,
            reqwest::Method::GET,
            "/api/v1/permissions/inbox",
            None,
        )
        .await;
        assert_eq!(inbox[0]["application"]["id"], wid, "{inbox}");
        assert_eq!(inbox[0]["step"], "permission_admin");
        let (s, done) = api(
            &url,
            &li,
            reqwest::Method::POST,
            &format!("{wbase}/decision"),
            Some(serde_json::json!({ "decision": "approve", "effective_from": today_short() })),
        )
        .await;
        assert_eq!(s, 200, "{done}");
        assert_eq!(done["application"]["pending_step"], "countersign");
    });
}

#[test]
fn scim_needs_the_token_and_a_valid_user() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let scim =
            |method: reqwest::Method, path: &str, token: Option<&str>, body: serde_json::Value| {
                let mut r = client()
                    .request(method, format!("{url}{path}"))
                    .header("content-type", "application/scim+json")
                    .body(body.to_string());
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                r.send()
            };
        let user = serde_json::json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ],
            "userName": "new.colleague",
            "name": { "formatted": "王小明" },
            "title": "科員",
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "social-assistance"
            },
        });
        for token in [None, Some("wrong-token")] {
            let r = scim(reqwest::Method::POST, "/scim/v2/Users", token, user.clone())
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        }
        let r = scim(
            reqwest::Method::POST,
            "/scim/v2/Users",
            Some(SCIM_TOKEN),
            user.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/scim+json")
        );
        let created: serde_json::Value = r.json().await.unwrap();
        assert_eq!(created["userName"], "new.colleague");

        // A change of an existing user by PUT: 200.
        let mut leave = user.clone();
        leave["title"] = serde_json::json!("科員");
        leave["schemas"]
            .as_array_mut()
            .unwrap()
            .push("urn:querywarden:params:scim:schemas:extension:staff:1.0:User".into());
        leave["urn:querywarden:params:scim:schemas:extension:staff:1.0:User"] =
            serde_json::json!({ "status": "on_leave", "effectiveDate": "2099-01-01" });
        leave["active"] = serde_json::json!(false);
        let r = scim(
            reqwest::Method::PUT,
            "/scim/v2/Users/new.colleague",
            Some(SCIM_TOKEN),
            leave.clone(),
        )
        .await
        .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "{text}");

        // The path and the payload must name the same user.
        let r = scim(
            reqwest::Method::PUT,
            "/scim/v2/Users/lin.meiling",
            Some(SCIM_TOKEN),
            leave,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);

        // A payload that does not validate: 400 with scimType, nothing changed.
        let mut bad = user.clone();
        bad.as_object_mut().unwrap().remove("schemas");
        let r = scim(
            reqwest::Method::POST,
            "/scim/v2/Users",
            Some(SCIM_TOKEN),
            bad,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);
        let e: serde_json::Value = r.json().await.unwrap();
        assert!(e["scimType"].is_string(), "{e}");
        assert_eq!(
            e["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        let r = client()
            .post(format!("{url}/scim/v2/Users"))
            .bearer_auth(SCIM_TOKEN)
            .header("content-type", "application/scim+json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    });
}
