//! Query permissions (§2, Form 1) over HTTP against the real binary: one application through
//! the whole chain on the pages (applicant → supervisor → administrator → countersign) ending
//! in grants; a refusal and the JSON API; separation of duties (one's own application, the
//! administrator's own going to the deputy); CSRF; and the SCIM endpoint's token and payload
//! checks.

use querywarden_domain::roc_date::taipei_date;

use querywarden_testkit::browser::{client, login};
use querywarden_testkit::people::{CHEN, LIN, WU};
use querywarden_testkit::{Browser, Demo, form_one_of_lin, rt, with_demo};
use reqwest::Method;

/// lin.meiling's invented national ID (its last four digits are on her demo staff record).
const LIN_ID: &str = "A100131234";
/// wu.zhiming's.
const WU_ID: &str = "F100144567";
/// The demo's SCIM bearer token.
pub(crate) const SCIM_TOKEN: &str = "demo-scim-token-115";

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
    with_demo([LIN], async |demo, [lin]| {
        let (s, page) = lin.read("/permissions/apply").await;
        assert_eq!(s, 200);
        assert!(page.contains("C0101") && page.contains("林美玲"), "{page}");

        let view = lin_files_and_submits_on_the_pages(&lin).await;
        let chen = demo.sign_in("chen.jianhong").await;
        the_unit_supervisor_approves(&chen, &view).await;
        let wu = demo.sign_in("wu.zhiming").await;
        the_administrator_approves_effective_today(&lin, &wu, &view).await;
        let zhang = demo.sign_in("zhang.shuhui").await;
        the_countersign_completes_the_chain(&zhang, &lin, &view).await;
        lins_grants_are_in_force(&lin).await;
        only_the_administrator_sees_the_overview(&wu, &lin).await;
    });
}

/// Form 1 on the pages: a refused form shows the rule and its code, never the national ID;
/// lin files and submits (not twice, not approving her own). Returns the application's page.
async fn lin_files_and_submits_on_the_pages(lin: &Browser) -> String {
    // A refused form shows the rule and its code, and never echoes the national ID.
    let mut bad = form_one(LIN_ID, &["C0101"]);
    bad.retain(|(k, _)| *k != "read_pdpa");
    let (s, _, _) = lin.submit("/permissions/apply", &bad).await;
    assert_eq!(s, 303, "a draft may lack the confirmations");
    let mut wrong_id = form_one("A123456789", &["C0101"]);
    wrong_id.push(("phone", "07-1"));
    let (s, _, body) = lin.submit("/permissions/apply", &wrong_id).await;
    assert_eq!(s, 422);
    assert!(body.contains("permission.national_id_mismatch"), "{body}");
    assert!(!body.contains("A123456789"), "the ID is not echoed back");

    let (s, location, _) = lin
        .submit("/permissions/apply", &form_one(LIN_ID, &["C0101", "B0101"]))
        .await;
    assert_eq!(s, 303);
    let id = app_id(&location);
    let view = format!("/permissions/applications/{id}");
    let (s, page) = lin.read(&location).await;
    assert_eq!(s, 200);
    assert!(page.contains("A10****234"), "masked ID shown");
    assert!(!page.contains(LIN_ID), "never the full ID");
    assert!(page.contains("草稿") && page.contains("app-submit"));
    let (s, _, _) = lin.submit(&format!("{view}/submit"), &[]).await;
    assert_eq!(s, 303);
    // Double submission is refused with its code.
    let (s, _, body) = lin.submit(&format!("{view}/submit"), &[]).await;
    assert_eq!(s, 422);
    assert!(body.contains("permission.already_submitted"), "{body}");
    // SoD: lin cannot approve her own application.
    let (s, _, body) = lin
        .submit(&format!("{view}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(s, 403);
    assert!(body.contains("sod.own_application"), "{body}");
    // The waiting step names the person who signs next, on the form and in her list.
    let page = lin.page(&view).await;
    assert!(page.contains("等待 申請人單位主管 陳建宏 核章"), "{page}");
    let page = lin.page("/permissions").await;
    assert!(page.contains("等待 申請人單位主管 陳建宏 核章"), "{page}");
    view
}

/// 1. The unit supervisor finds it in the inbox and approves; then it is not his step.
async fn the_unit_supervisor_approves(chen: &Browser, view: &str) {
    let (_, inbox) = chen.read("/permissions/inbox").await;
    assert!(inbox.contains(view), "{inbox}");
    let (_, page) = chen.read(view).await;
    assert!(page.contains("decide-form"));
    let (s, _, _) = chen
        .submit(
            &format!("{view}/decide"),
            &[("decision", "approve"), ("comment", "同意")],
        )
        .await;
    assert_eq!(s, 303);
    // Not chen's step any more.
    let (s, _, body) = chen
        .submit(&format!("{view}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(s, 403, "{body}");
}

/// 2. The administrator, effective today (a date in the past is refused).
async fn the_administrator_approves_effective_today(lin: &Browser, wu: &Browser, view: &str) {
    let page = lin.page(view).await;
    assert!(page.contains("等待 權限管理者 吳志明 核章"), "{page}");
    let (_, inbox) = wu.read("/permissions/inbox").await;
    assert!(inbox.contains(view));
    let (s, _, body) = wu
        .submit(
            &format!("{view}/decide"),
            &[("decision", "approve"), ("effective_from", "100/01/01")],
        )
        .await;
    // Years away from today: not a date this field can hold (the same window as every
    // effective date), whatever the chain's own rule would say.
    assert_eq!(s, 422);
    assert!(body.contains("roc_date.outside_window"), "{body}");
    let yesterday =
        taipei_date(jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)).format_short();
    let (s, _, body) = wu
        .submit(
            &format!("{view}/decide"),
            &[("decision", "approve"), ("effective_from", &yesterday)],
        )
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("permission.effective_date_in_past"), "{body}");
    let today = today_short();
    let (s, _, _) = wu
        .submit(
            &format!("{view}/decide"),
            &[("decision", "approve"), ("effective_from", &today)],
        )
        .await;
    assert_eq!(s, 303);
}

/// 3. The countersign: the application is approved, signed by all three, in ROC dates.
async fn the_countersign_completes_the_chain(zhang: &Browser, lin: &Browser, view: &str) {
    let (_, inbox) = zhang.read("/permissions/inbox").await;
    assert!(inbox.contains(view));
    let (s, location, _) = zhang
        .submit(&format!("{view}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(s, 303);
    assert!(location.ends_with("done=decided"));

    let (_, page) = lin.read(view).await;
    assert!(page.contains("data-state=\"approved\""), "{page}");
    for who in ["陳建宏", "吳志明", "張淑慧"] {
        assert!(page.contains(who), "{who} signed");
    }
    assert!(page.contains("民國 "), "ROC dates");
}

/// lin's grants show the items; the API says they are in force, the other items ended.
async fn lins_grants_are_in_force(lin: &Browser) {
    let (_, grants) = lin.read("/permissions/grants").await;
    assert!(
        grants.contains("C0101") && grants.contains("B0101"),
        "{grants}"
    );
    let (s, json) = lin
        .call(Method::GET, "/api/v1/permissions/grants", None)
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
}

/// The administrator's overview, filtered; nobody else may see it.
async fn only_the_administrator_sees_the_overview(wu: &Browser, lin: &Browser) {
    let (s, page) = wu
        .read("/permissions/admin/grants?unit=social-assistance&item=C0101&status=active")
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("林美玲") && page.contains("C0101"));
    let (_, page) = wu.read("/permissions/admin/grants?unit=ethics").await;
    assert!(page.contains("grants-empty"));
    let (s, _) = lin.read("/permissions/admin/grants").await;
    assert_eq!(s, 403);
    let (s, json) = lin
        .call(Method::GET, "/api/v1/permissions/admin/grants", None)
        .await;
    assert_eq!(s, 403);
    assert_eq!(json["error"]["code"], "permission.not_administrator");
}

#[test]
fn refusal_withdrawal_csrf_and_the_administrators_own_application_over_the_api() {
    with_demo([LIN], async |demo, [lin]| {
        let url = demo.url.clone();
        let body = form_one_of_lin();

        csrf_and_bad_bodies_write_nothing(&url, &lin, &body).await;
        let chen = demo.sign_in("chen.jianhong").await;
        a_refusal_ends_the_application_with_its_reason(&lin, &chen, &body).await;
        lin_withdraws_before_the_last_step(&lin, &body).await;
        let [wu, zhang, li] = demo
            .sign_in_all(["wu.zhiming", "zhang.shuhui", "li.guowei"])
            .await;
        the_administrators_own_goes_to_the_deputy(&wu, &zhang, &li, &body).await;
    });
}

/// CSRF: without the header (API) or the field (page), nothing happens; unknown fields and
/// unknown items are refused with stable codes.
async fn csrf_and_bad_bodies_write_nothing(url: &str, lin: &Browser, body: &serde_json::Value) {
    let (_, mine) = lin
        .call(Method::GET, "/api/v1/permissions/applications", None)
        .await;
    let before = mine.as_array().unwrap().len();

    // CSRF: without the header (API) or the field (page), nothing happens.
    let r = client()
        .post(format!("{url}/api/v1/permissions/applications"))
        .header("cookie", &lin.cookie)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = lin
        .post("/permissions/apply", &form_one(LIN_ID, &["C0101"]), false)
        .await;
    assert_eq!(r.status(), 403);
    let (_, mine) = lin
        .call(Method::GET, "/api/v1/permissions/applications", None)
        .await;
    assert_eq!(
        mine.as_array().unwrap().len(),
        before,
        "nothing was written"
    );

    // Unknown fields and unknown items are refused with stable codes.
    let mut extra = body.clone();
    extra["surprise"] = serde_json::json!(1);
    let (s, e) = lin
        .call_post("/api/v1/permissions/applications", extra)
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("request.malformed"))
    );
    let mut unknown = body.clone();
    unknown["items"] = serde_json::json!(["Z9999"]);
    let (s, e) = lin
        .call_post("/api/v1/permissions/applications", unknown)
        .await;
    assert_eq!(s, 422, "{e}");
}

/// A refusal at the supervisor's step needs a reason and ends the application with it, shown
/// to the applicant.
async fn a_refusal_ends_the_application_with_its_reason(
    lin: &Browser,
    chen: &Browser,
    body: &serde_json::Value,
) {
    let (s, created) = lin
        .call_post("/api/v1/permissions/applications", body.clone())
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["national_id_masked"], "A10****234");
    let id = created["id"].as_i64().unwrap();
    let base = format!("/api/v1/permissions/applications/{id}");
    let (s, _) = lin
        .call(Method::POST, &format!("{base}/submit"), None)
        .await;
    assert_eq!(s, 200);
    let (_, inbox) = chen
        .call(Method::GET, "/api/v1/permissions/inbox", None)
        .await;
    assert_eq!(inbox[0]["application"]["id"], id);
    assert_eq!(inbox[0]["step"], "unit_supervisor");
    let (s, e) = chen
        .call_post(
            &format!("{base}/decision"),
            serde_json::json!({ "decision": "refuse" }),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("permission.reason_required"))
    );
    assert_eq!(e["error"]["message"], "不同意或其他時須填寫理由或說明");
    assert_eq!(
        e["error"]["message_en"],
        "Refusing or \"other\" needs a reason or a note"
    );
    let (s, done) = chen
        .call_post(
            &format!("{base}/decision"),
            serde_json::json!({ "decision": "refuse", "comment": "業務上不需要" }),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["application"]["state"], "refused");
    let (_, page) = lin.read(&format!("/permissions/applications/{id}")).await;
    assert!(
        page.contains("業務上不需要"),
        "the reason is shown to the applicant"
    );
}

/// Withdrawal before the last step.
async fn lin_withdraws_before_the_last_step(lin: &Browser, body: &serde_json::Value) {
    let (_, second) = lin
        .call_post("/api/v1/permissions/applications", body.clone())
        .await;
    let second = second["id"].as_i64().unwrap();
    let view = format!("/permissions/applications/{second}");
    let (s, _, _) = lin.submit(&format!("{view}/submit"), &[]).await;
    assert_eq!(s, 303);
    let (s, _, _) = lin.submit(&format!("{view}/withdraw"), &[]).await;
    assert_eq!(s, 303);
    let (_, page) = lin.read(&view).await;
    assert!(page.contains("data-state=\"withdrawn\""));
}

/// §2 separation of duties: the administrator's own application — his unit's supervisor
/// consents, then it goes to the deputy (li.guowei), never to himself.
async fn the_administrators_own_goes_to_the_deputy(
    wu: &Browser,
    zhang: &Browser,
    li: &Browser,
    body: &serde_json::Value,
) {
    let mut wu_body = body.clone();
    wu_body["national_id"] = serde_json::json!(WU_ID);
    let (s, created) = wu
        .call_post("/api/v1/permissions/applications", wu_body)
        .await;
    assert_eq!(s, 201, "{created}");
    let wid = created["id"].as_i64().unwrap();
    let wbase = format!("/api/v1/permissions/applications/{wid}");
    wu.call(Method::POST, &format!("{wbase}/submit"), None)
        .await;
    let (s, _) = zhang
        .call_post(
            &format!("{wbase}/decision"),
            serde_json::json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = wu
        .call_post(
            &format!("{wbase}/decision"),
            serde_json::json!({ "decision": "approve", "effective_from": today_short() }),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(e["error"]["code"], "sod.administrator_own_application");
    let (_, inbox) = li
        .call(Method::GET, "/api/v1/permissions/inbox", None)
        .await;
    assert_eq!(inbox[0]["application"]["id"], wid, "{inbox}");
    assert_eq!(inbox[0]["step"], "permission_admin");
    let (s, done) = li
        .call_post(
            &format!("{wbase}/decision"),
            serde_json::json!({ "decision": "approve", "effective_from": today_short() }),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["application"]["pending_step"], "countersign");
}

#[test]
fn scim_needs_the_token_and_a_valid_user() {
    let demo = Demo::start();
    let url = demo.url.clone();
    rt().block_on(async {
        // A SCIM request with `token` as its bearer, if any; and the provisioning system's own.
        let scim = |method: Method, path: &str, token: Option<&str>, body: String| {
            let mut r = client()
                .request(method, format!("{url}{path}"))
                .header("content-type", "application/scim+json")
                .body(body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move { r.send().await.unwrap() }
        };
        let provision = |method: Method, path: &str, body: &serde_json::Value| {
            scim(method, path, Some(SCIM_TOKEN), body.to_string())
        };
        let user = a_new_colleague();
        for token in [None, Some("wrong-token")] {
            let r = scim(Method::POST, "/scim/v2/Users", token, user.to_string()).await;
            assert_eq!(r.status(), 401);
        }
        let r = provision(Method::POST, "/scim/v2/Users", &user).await;
        assert_eq!(r.status(), 201);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/scim+json")
        );
        let created: serde_json::Value = r.json().await.unwrap();
        assert_eq!(created["userName"], "new.colleague");

        // A change of an existing user by PUT: 200. (A leave announced half a year ahead:
        // effective dates lie within a year of today.)
        let leave = on_leave_half_a_year_ahead(&user);
        let r = provision(Method::PUT, "/scim/v2/Users/new.colleague", &leave).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "{text}");

        // The path and the payload must name the same user.
        let r = provision(Method::PUT, "/scim/v2/Users/lin.meiling", &leave).await;
        assert_eq!(r.status(), 400);

        // A payload that does not validate: 400 with scimType, nothing changed.
        let mut bad = user.clone();
        bad.as_object_mut().unwrap().remove("schemas");
        let r = provision(Method::POST, "/scim/v2/Users", &bad).await;
        assert_eq!(r.status(), 400);
        let e: serde_json::Value = r.json().await.unwrap();
        assert!(e["scimType"].is_string(), "{e}");
        assert_eq!(
            e["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        let not_json = "{not json".to_string();
        let r = scim(Method::POST, "/scim/v2/Users", Some(SCIM_TOKEN), not_json).await;
        assert_eq!(r.status(), 400);
    });
}

/// A SCIM user for a new colleague (new.colleague, 王小明) in the social-assistance unit.
fn a_new_colleague() -> serde_json::Value {
    serde_json::json!({
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
    })
}

/// `user` on leave from half a year ahead (effective dates lie within a year of today), no
/// longer active.
fn on_leave_half_a_year_ahead(user: &serde_json::Value) -> serde_json::Value {
    let half_a_year_ahead =
        taipei_date(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 180))
            .civil()
            .to_string();
    let mut leave = user.clone();
    leave["title"] = serde_json::json!("科員");
    leave["schemas"]
        .as_array_mut()
        .unwrap()
        .push("urn:querywarden:params:scim:schemas:extension:staff:1.0:User".into());
    leave["urn:querywarden:params:scim:schemas:extension:staff:1.0:User"] =
        serde_json::json!({ "status": "on_leave", "effectiveDate": half_a_year_ahead });
    leave["active"] = serde_json::json!(false);
    leave
}

/// Uploads a staff CSV on the administrator's import page; answers status and body.
async fn upload_staff(who: &Browser, csv: &str) -> (u16, String) {
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
        .file_name("staff.csv")
        .mime_str("text/csv")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", who.csrf.clone())
        .part("file", part);
    let r = who.multipart("/permissions/admin/staff-import", form).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The items of `who`'s grants that are in force today, sorted.
async fn in_force(who: &Browser) -> Vec<String> {
    let (s, json) = who
        .call(Method::GET, "/api/v1/permissions/grants", None)
        .await;
    assert_eq!(s, 200, "{json}");
    let mut v: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["in_force"] == true)
        .map(|g| g["item"].as_str().unwrap().to_string())
        .collect();
    v.sort_unstable();
    v
}

const STAFF_HEADER: &str = "account,national_id,name,unit,title,status,effective_date";

#[test]
fn the_staff_import_page_applies_a_good_file_and_refuses_a_file_with_a_bad_row() {
    with_demo([WU, LIN], async |demo, [wu, lin]| {
        let (s, page) = wu.read("/permissions/admin/staff-import").await;
        assert_eq!(s, 200);
        assert!(page.contains("import-upload"), "{page}");
        // Only the administrator may import.
        let (s, _) = lin.read("/permissions/admin/staff-import").await;
        assert_eq!(s, 403);
        let (s, _) = upload_staff(&lin, STAFF_HEADER).await;
        assert_eq!(s, 403);
        let before = in_force(&lin).await;
        assert!(!before.is_empty(), "the demo grants lin every item");
        let today = today_short();

        // One good row and one with an unknown unit on line 3: nothing is imported, and the
        // page names the line.
        let bad = format!(
            "{STAFF_HEADER}\nlin.meiling,{LIN_ID},林美玲,social-assistance,社會工作師,on_leave,{today}\n\
             huang.yating,,黃雅婷,no-such-unit,社會工作員,active,{today}\n"
        );
        let (s, body) = upload_staff(&wu, &bad).await;
        assert_eq!(s, 422, "{body}");
        assert!(body.contains("import-errors"), "{body}");
        assert!(body.contains("第 3 行"), "the bad line is named: {body}");
        assert!(!body.contains("第 2 行"), "the good line is not blamed");
        assert_eq!(in_force(&lin).await, before, "nothing was imported");

        // Without the CSRF field nothing happens.
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bad.clone().into_bytes()).file_name("staff.csv"),
        );
        let r = wu.multipart("/permissions/admin/staff-import", form).await;
        assert_eq!(r.status(), 403);

        // A good file: lin goes on leave today, so every grant of hers is suspended.
        let good = format!(
            "{STAFF_HEADER}\nlin.meiling,{LIN_ID},林美玲,social-assistance,社會工作師,on_leave,{today}\n"
        );
        let (s, body) = upload_staff(&wu, &good).await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("import-result"), "{body}");
        // Someone on leave no longer works in the system; the administrator's overview shows
        // her grants suspended with the cause, and none of them in force.
        let (s, _) = lin.read("/permissions/grants").await;
        assert_eq!(s, 303, "lin's session no longer opens pages");
        let (s, json) = wu
            .call(
                Method::GET,
                "/api/v1/permissions/admin/grants?unit=social-assistance",
                None,
            )
            .await;
        assert_eq!(s, 200, "{json}");
        let hers: Vec<&serde_json::Value> = json
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["account"] == "lin.meiling" && g["status"] != "ended")
            .collect();
        assert!(!hers.is_empty(), "{json}");
        assert!(
            hers.iter()
                .all(|g| g["in_force"] == false && g["suspension_cause"] == "on_leave"),
            "{json}"
        );
        // The old supervisor sees the change on the staff page.
        let chen = demo.sign_in("chen.jianhong").await;
        let (s, staff) = chen.read("/permissions/staff").await;
        assert_eq!(s, 200);
        assert!(staff.contains("林美玲"), "{staff}");

        // §2: the administrator and the old supervisor find a notice in their inbox; each marks
        // it read (CSRF-checked) and it is gone.
        for who in [&wu, &chen] {
            let (s, inbox) = who.read("/permissions/inbox").await;
            assert_eq!(s, 200);
            assert!(inbox.contains("id=\"notices\""), "{inbox}");
            assert!(
                inbox.contains("留職停薪或長期請假：林美玲（lin.meiling）"),
                "{inbox}"
            );
            let id = inbox
                .split("data-notice=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_string();
            let read = format!("/permissions/notices/{id}/read");
            let r = who.post(&read, &[("csrf", "wrong")], false).await;
            assert_eq!(r.status(), 403);
            let (s, location, _) = who.submit(&read, &[]).await;
            assert_eq!(s, 303);
            assert!(location.ends_with("done=notice_read"), "{location}");
            let (_, inbox) = who.read(&location).await;
            // This notice is gone (others, such as the reminder that next year's office
            // calendar is missing, may remain).
            assert!(!inbox.contains(&format!("data-notice=\"{id}\"")), "{inbox}");
            assert!(inbox.contains("perm-notice"), "{inbox}");
            // Read once; a second time (or someone else's) is not found.
            let (s, _, _) = who.submit(&read, &[]).await;
            assert_eq!(s, 404);
        }
    });
}

#[test]
fn the_administrator_re_enables_an_idle_account_on_the_accounts_page() {
    let demo = Demo::start();
    let data = demo.data().to_path_buf();
    let url = demo.url.clone();
    rt().block_on(async {
        use querywarden_app::permission::recertification::{disable_idle_accounts, enable_account};
        use querywarden_app::permission::{Op, PermissionPolicy, administrator_desk};

        let wu = demo.sign_in("wu.zhiming").await;
        let (_, page) = wu.read("/permissions/admin/accounts").await;
        assert!(page.contains("accounts-empty"), "{page}");

        // The idle-account job, run by the app layer on the demo's own database as if 91 days
        // had passed: every account is disabled. The administrator's own account is re-enabled
        // by the app layer (his supervisor's desk) so that he can work the page.
        let db = data.join("querywarden.sqlite");
        assert!(db.exists(), "{}", db.display());
        let store = querywarden_storage::Store::open(&db).await.unwrap();
        let later = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24 * 91))
            .unwrap();
        let policy = PermissionPolicy::default();
        let op = Op::new(later, "test-idle");
        let idle = disable_idle_accounts(&store, &policy, &op).await.unwrap();
        let person = |account: &'static str| {
            let store = store.clone();
            async move {
                store
                    .person_by_account(&querywarden_domain::org::Account::parse(account).unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let (lin_id, wu_id, zhang_id) = (
            person("lin.meiling").await,
            person("wu.zhiming").await,
            person("zhang.shuhui").await,
        );
        assert!(idle.contains(&lin_id) && idle.contains(&wu_id), "{idle:?}");
        let mut tx = store.begin().await.unwrap();
        tx.enable_account(zhang_id).await.unwrap();
        tx.commit().await.unwrap();
        let zhang_desk = administrator_desk(&store, &policy, zhang_id, &op)
            .await
            .unwrap();
        assert!(
            enable_account(&store, &zhang_desk, wu_id, &op)
                .await
                .unwrap()
        );

        // lin cannot sign in; wu (whose session the job ended) signs in again.
        let r = login(&url, "lin.meiling", "demo-password-115", "").await;
        assert_ne!(r.status(), 303, "a disabled account cannot sign in");
        let (s, _) = wu.read("/permissions/admin/accounts").await;
        assert_ne!(s, 200, "the disabled session ended");
        let wu = demo.sign_in("wu.zhiming").await;
        let (s, page) = wu.read("/permissions/admin/accounts").await;
        assert_eq!(s, 200);
        assert!(
            page.contains("disabled-accounts") && page.contains("lin.meiling"),
            "{page}"
        );

        // Enabling needs CSRF; an unknown account is refused; then lin is enabled.
        let r = wu
            .post(
                "/permissions/admin/accounts/enable",
                &[("account", "lin.meiling")],
                false,
            )
            .await;
        assert_eq!(r.status(), 403);
        let (s, _, _) = wu
            .submit(
                "/permissions/admin/accounts/enable",
                &[("account", "no.such.person")],
            )
            .await;
        assert!(s >= 400, "{s}");
        let (s, location, _) = wu
            .submit(
                "/permissions/admin/accounts/enable",
                &[("account", "lin.meiling")],
            )
            .await;
        assert_eq!(s, 303);
        assert!(location.ends_with("done=enabled"), "{location}");
        let (_, page) = wu.read(&location).await;
        assert!(page.contains("perm-notice"), "{page}");
        assert!(!page.contains("lin.meiling"), "{page}");
        let r = login(&url, "lin.meiling", "demo-password-115", "").await;
        assert_eq!(r.status(), 303, "lin signs in again");
        // Nobody but the administrator may enable accounts.
        let lin = demo.sign_in("lin.meiling").await;
        let (s, _, _) = lin
            .submit(
                "/permissions/admin/accounts/enable",
                &[("account", "huang.yating")],
            )
            .await;
        assert_eq!(s, 403);
    });
}

#[test]
fn a_supervisor_works_a_recertification_round_on_the_pages() {
    with_demo([CHEN, LIN], async |_, [chen, lin]| {
        let before = in_force(&lin).await;
        assert!(before.len() >= 2, "{before:?}");
        // Only a supervisor opens a round.
        let (s, _, _) = lin.submit("/permissions/recertification", &[]).await;
        assert_eq!(s, 403);
        let (s, location, _) = chen.submit("/permissions/recertification", &[]).await;
        assert_eq!(s, 303);
        let id = location
            .strip_prefix("/permissions/recertification/")
            .and_then(|r| r.split('?').next())
            .unwrap()
            .to_string();
        let view = format!("/permissions/recertification/{id}");
        let (s, page) = chen.read(&location).await;
        assert_eq!(s, 200);
        assert!(page.contains("round-lines"), "{page}");
        let lines = the_rounds_lines(&chen, &id).await;
        closing_early_is_refused_in_either_language(&chen, &view).await;

        // The first line is confirmed, the second denied, the rest left unanswered until the
        // supervisor answers them too (closing early needs every line) — all but the first
        // are denied.
        let (kept_grant, kept_item) = &lines[0];
        let (s, _, _) = chen
            .submit(
                &format!("{view}/decide"),
                &[("grant", kept_grant), ("decision", "confirmed")],
            )
            .await;
        assert_eq!(s, 303);
        let (s, _, body) = chen
            .submit(
                &format!("{view}/decide"),
                &[("grant", &lines[1].0), ("decision", "maybe")],
            )
            .await;
        assert_eq!(s, 422);
        assert!(body.contains("recertification.bad_decision"), "{body}");
        // lin is not the round's owner (nor a supervisor).
        let (s, _, _) = lin
            .submit(
                &format!("{view}/decide"),
                &[("grant", &lines[1].0), ("decision", "confirmed")],
            )
            .await;
        assert_eq!(s, 403);
        for (grant, _) in &lines[1..] {
            let (s, location, _) = chen
                .submit(
                    &format!("{view}/decide"),
                    &[("grant", grant), ("decision", "not_needed")],
                )
                .await;
            assert_eq!(s, 303);
            assert!(location.ends_with("done=recertified"));
        }
        let (_, page) = chen.read(&view).await;
        assert!(page.contains("data-decision=\"confirmed\""));
        assert!(page.contains("data-decision=\"not_needed\""));
        let (s, location, _) = chen.submit(&format!("{view}/close"), &[]).await;
        assert_eq!(s, 303);
        assert!(location.ends_with("done=closed"), "{location}");
        let (_, page) = chen.read(&view).await;
        assert!(
            !page.contains("round-close"),
            "a closed round has no buttons"
        );

        // Only the confirmed grant is still in force; the denied ones are suspended.
        assert_eq!(in_force(&lin).await, std::slice::from_ref(kept_item));
        let (_, json) = lin
            .call(Method::GET, "/api/v1/permissions/grants", None)
            .await;
        let denied = &lines[1].1;
        assert!(
            json.as_array()
                .unwrap()
                .iter()
                .any(|g| g["item"] == denied.as_str() && g["status"] == "suspended"),
            "{json}"
        );
    });
}

/// The round's lines on the API: (grant, item) each, at least two.
async fn the_rounds_lines(chen: &Browser, id: &str) -> Vec<(String, String)> {
    let (s, round) = chen
        .call(
            Method::GET,
            &format!("/api/v1/permissions/recertifications/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{round}");
    let lines: Vec<(String, String)> = round["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["grant"].as_i64().unwrap().to_string(),
                l["item"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(lines.len() >= 2, "{round}");
    lines
}

/// Closing early needs every line answered: refused in zh-TW by default, and in English on
/// the English UI, with the same code.
async fn closing_early_is_refused_in_either_language(chen: &Browser, view: &str) {
    let (s, _, body) = chen.submit(&format!("{view}/close"), &[]).await;
    assert_eq!(s, 422, "{body}");
    assert!(body.contains("尚未屆至"), "zh-TW by default: {body}");
    // The English UI shows the same refusal in English.
    let chen_en = chen.in_language("en");
    let (s, _, body) = chen_en.submit(&format!("{view}/close"), &[]).await;
    assert_eq!(s, 422, "{body}");
    assert!(
        body.contains("has not passed yet")
            && body.contains("recertification.deadline_not_reached"),
        "{body}"
    );
    assert!(!body.contains("尚未屆至"), "{body}");
}
