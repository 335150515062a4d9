//! The authorisation matrix (MISSION.md "Roles", §3–§9): every route of the OpenAPI document
//! and every page read, as every role and as no one, against real objects of the running demo.
//! Each cell is the HTTP status (and for a refusal whether the trail recorded it); the table
//! is `docs/authorisation.md`, checked here cell by cell (`QW_WRITE_AUTHZ=1` rewrites it after
//! a deliberate change, to be reviewed in the diff). Beside the table, for every cell:
//! no response carries a whole national ID except `reveal` to someone entitled to it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use querywarden_testkit::{Browser, Demo, OneOfEach, one_of_each, rt};

/// The roles of MISSION.md, by the demo account that holds each, in the order they act (the
/// owner of the objects last, so others' attempts meet them untouched).
const ROLES: &[(&str, Option<&str>)] = &[
    ("no one", None),
    ("district office staff", Some("cai.peiling")),
    ("personal-data contact", Some("zhang.shuhui")),
    ("ethics auditor", Some("zheng.zhihao")),
    ("director", Some("zhou.wenhua")),
    ("deputy administrator", Some("li.guowei")),
    ("permission administrator", Some("wu.zhiming")),
    ("supervisor", Some("chen.jianhong")),
    ("querier", Some("lin.meiling")),
];

/// Whole national IDs the demo's objects carry (subjects and a staff member's Form 1).
const WHOLE_IDS: &[&str] = &["F131104093", "E123456783", "A100131234"];

/// Page reads (GET) with an id or not; writes through pages use the same use cases as the
/// API rows.
const PAGES: &[&str] = &[
    "/",
    "/catalogue",
    "/registrations",
    "/registrations/new",
    "/registrations/batch",
    "/registrations/{no}",
    "/registrations/{no}/results/C0101",
    "/requests",
    "/requests/new",
    "/requests/{rno}",
    "/permissions",
    "/permissions/apply",
    "/permissions/inbox",
    "/permissions/grants",
    "/permissions/staff",
    "/permissions/admin/grants",
    "/permissions/admin/accounts",
    "/permissions/admin/staff-import",
    "/permissions/applications/{app}",
    "/permissions/applications/{app}/amend",
    "/permissions/recertification/{round}",
    "/oversight",
    "/oversight/unit",
    "/oversight/audits",
    "/oversight/audits/new",
    "/oversight/audits/{audit}",
    "/oversight/reviews/{review}",
    "/oversight/violations",
    "/oversight/violations/{case}",
    "/audit",
    "/admin/usage-log",
    "/admin/bind-card",
    "/admin/enrolment",
    "/account/password",
    "/account/mail",
    "/tools/national-id",
];

/// A harmless body for each write: valid, so that the request reaches its use case, and
/// acting on the demo's own objects.
fn body_for(method: &str, path: &str, no: &str) -> Value {
    match (method, path) {
        ("post", "/api/v1/registrations/{no}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/registrations/decisions") => {
            json!({ "decision": "approve", "registrations": [no] })
        }
        ("post", "/api/v1/requests/{no}/review") => {
            json!({ "decision": "reject", "opinion": "不符規定" })
        }
        ("post", "/api/v1/requests/{no}/delivery") => json!({ "delivery": "in_system" }),
        ("post", "/api/v1/permissions/applications/{id}/decision") => {
            json!({ "decision": "refuse", "comment": "不符" })
        }
        ("post", "/api/v1/permissions/recertifications/{id}/decisions") => {
            json!({ "grant": 1, "decision": "confirmed" })
        }
        ("post", "/api/v1/oversight/audits/{id}/opinions") => {
            json!({ "case": no, "conforms": true, "text": "相符" })
        }
        ("post", "/api/v1/oversight/audits/{id}/overall") => {
            json!({ "violation_found": false, "text": "相符" })
        }
        ("post", "/api/v1/oversight/audits/{id}/sign-off") => json!({ "step": "querier" }),
        ("post", "/api/v1/oversight/audits/{id}/review") => json!({ "comment": "" }),
        ("post", "/api/v1/oversight/violations/{id}/report") => json!({ "report": "已檢討" }),
        ("post", "/api/v1/oversight/violations/{id}/decision") => {
            json!({ "decision": "accept" })
        }
        ("post", "/api/v1/oversight/findings/{id}/conclusion") => {
            json!({ "conclusion": "explained", "note": "業務需要" })
        }
        ("post", "/api/v1/national-ids/check") => json!({ "id": "A123456789" }),
        ("put", "/api/v1/me/mail") => json!({ "digest": "none" }),
        _ => json!({}),
    }
}

/// The real objects the routes are called on: one of each, and the quarter's review.
struct Ids {
    objects: OneOfEach,
    review: String,
}

impl Ids {
    fn fill(&self, path: &str) -> String {
        let o = &self.objects;
        let id = if path.contains("/applications/") {
            &o.app
        } else if path.contains("/recertification") {
            &o.round
        } else if path.contains("/audits/") {
            &o.audit
        } else if path.contains("/violations/") {
            &o.case
        } else if path.contains("/reviews/") {
            &self.review
        } else if path.contains("/documents/") {
            // The registration's own Form 2: a document is seen by who sees its record.
            &o.no
        } else {
            "999999"
        };
        let no = if path.contains("/requests/") {
            &o.rno
        } else {
            &o.no
        };
        path.replace("{no}", no)
            .replace("{rno}", &o.rno)
            .replace("{item}", "C0101")
            .replace("{doc}", "1")
            .replace("{form}", "form2")
            .replace("{position}", "1")
            .replace("{app}", &o.app)
            .replace("{round}", &o.round)
            .replace("{audit}", &o.audit)
            .replace("{case}", &o.case)
            .replace("{review}", &self.review)
            .replace("{id}", id)
    }
}

/// The trail's newest sequence number, read beside the running server.
async fn last_seq(db: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    let (n,): (Option<i64>,) = sqlx::query_as("SELECT max(seq) FROM audit_records")
        .fetch_one(&mut c)
        .await
        .unwrap();
    n.unwrap_or(0)
}

async fn set_up(url: &str, b: &BTreeMap<&str, Browser>) -> Ids {
    let (lin, chen, wu, cai) = (
        &b["querier"],
        &b["supervisor"],
        &b["permission administrator"],
        &b["district office staff"],
    );
    let objects = one_of_each(lin, chen, wu, cai).await;
    // The scheduler opens the quarter's review at start.
    let mut review = String::new();
    for _ in 0..100 {
        let j = wu.api_get("/api/v1/oversight/reviews").await;
        if let Some(id) = j["reviews"][0]["id"].as_i64() {
            review = id.to_string();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(!review.is_empty(), "the scheduler opened no review");
    let _ = url;
    Ids { objects, review }
}

/// One cell: the status, and for a refusal to someone signed in whether the trail grew.
fn cell(status: u16, signed_in: bool, audited: bool) -> String {
    let refused = matches!(status, 401 | 403 | 404);
    if refused && signed_in && !audited {
        format!("{status} unaudited")
    } else {
        status.to_string()
    }
}

/// One row of the matrix: the method, the route and a cell per role.
type Row = (String, String, Vec<String>);

#[test]
fn every_route_as_every_role_answers_as_documented_and_refusals_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("querywarden.sqlite");
    let demo = Demo::start_in(&data, &[]);
    let url = demo.url.clone();
    let (rows, leaks) = rt().block_on(async {
        let mut browsers = BTreeMap::new();
        for (role, account) in ROLES {
            if let Some(a) = account {
                browsers.insert(*role, demo.sign_in(a).await);
            }
        }
        let ids = set_up(&url, &browsers).await;
        let anonymous = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let doc: Value = browsers["querier"].api_get("/api/openapi.json").await;
        let routes = every_route(&doc);
        every_role_on_every_route(&url, &db, &browsers, &ids, &anonymous, &routes).await
    });
    drop(demo);
    assert!(leaks.is_empty(), "{leaks:#?}");
    every_refusal_was_audited(&rows);
    the_matrix_is_as_documented(&the_table(&rows));
}

/// Every route of the OpenAPI document and every page read, locking the session last:
/// afterwards the role's screen is locked.
fn every_route(doc: &Value) -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            routes.push((method.clone(), path.clone()));
        }
    }
    routes.sort_by_key(|(m, p)| (p.clone(), m.clone()));
    for page in PAGES {
        routes.push(("page".into(), page.to_string()));
    }
    // Locking the session last: afterwards the role's screen is locked.
    let lock = ("post".to_string(), "/api/v1/session/lock".to_string());
    routes.retain(|r| *r != lock);
    routes.push(lock);
    routes
}

/// Each role (and no one) calls each route in turn against the real objects. Returns the
/// rows of cells and any answer that carried a whole national ID it should not.
async fn every_role_on_every_route(
    url: &str,
    db: &std::path::Path,
    browsers: &BTreeMap<&str, Browser>,
    ids: &Ids,
    anonymous: &reqwest::Client,
    routes: &[(String, String)],
) -> (Vec<Row>, Vec<String>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut leaks = Vec::new();
    for (method, path) in routes {
        let target = ids.fill(path);
        let mut cells = Vec::new();
        for (role, _) in ROLES {
            let b = browsers.get(role);
            let before = last_seq(db).await;
            let http = if method == "page" {
                "get"
            } else {
                method.as_str()
            };
            let mut req = match b {
                Some(b) => {
                    b.c.request(
                        http.to_uppercase().parse().unwrap(),
                        format!("{url}{target}"),
                    )
                    .header("cookie", &b.cookie)
                    .header("x-csrf-token", &b.csrf)
                }
                None => anonymous.request(
                    http.to_uppercase().parse().unwrap(),
                    format!("{url}{target}"),
                ),
            };
            if http != "get" {
                req = req.json(&body_for(method, path, &ids.objects.no));
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            let audited = last_seq(db).await > before;
            let entitled_reveal = path.ends_with("/reveal") && status == 200;
            for id in WHOLE_IDS {
                if text.contains(id) && !entitled_reveal {
                    leaks.push(format!("{method} {path} as {role}: whole ID {id}"));
                }
            }
            cells.push(cell(status, b.is_some(), audited));
        }
        rows.push((method.to_uppercase(), path.clone(), cells));
    }
    (rows, leaks)
}

/// Every refusal (401 aside) to someone signed in left an audit record.
fn every_refusal_was_audited(rows: &[Row]) {
    let unaudited: Vec<String> = rows
        .iter()
        .flat_map(|(m, p, cells)| {
            cells
                .iter()
                .zip(ROLES)
                .filter(|(c, _)| c.contains("unaudited"))
                .map(move |(c, (role, _))| format!("{m} {p} as {role}: {c}"))
        })
        .collect();
    assert!(
        unaudited.is_empty(),
        "refusals not on the trail: {unaudited:#?}"
    );
}

/// The matrix as docs/authorisation.md holds it: what it is, then a row per route.
fn the_table(rows: &[Row]) -> String {
    let mut table = String::from(
        "# 授權矩陣 Authorisation matrix\n\n\
     Generated and checked by `crates/cli/tests/it/authorisation_matrix.rs` (run it with\n\
     `QW_WRITE_AUTHZ=1` to rewrite this file after a deliberate change, and review the diff).\n\
     Every route of `/api/openapi.json` and every page read, as each role of MISSION.md (by\n\
     the demo account holding it) and as no one, against real objects: lin.meiling's\n\
     registration (approved by chen.jianhong, executed), cai.peiling's Form 3 request, an\n\
     unannounced audit of lin, a violation case against her, her Form 1 draft,\n\
     chen.jianhong's recertification round and the quarter's review. Writes carry a valid,\n\
     harmless body; roles act in the column order, so the owner (the querier) acts last.\n\n\
     A cell is the HTTP status. 401: not signed in; 403: refused by a rule; 404: not found,\n\
     or not this person's to see (the same answer, §9); 409/422: reached the use case and\n\
     refused on the object's state or the input (a 400/422 shared by every role means the\n\
     harmless body stops at input checks, before any rule: such a row shows nothing about\n\
     roles). Beside the table the test asserts that every refusal (401 aside: no one signed\n\
     in, nobody to name) to someone signed in left an audit record — a cell that did not\n\
     would read `403 unaudited` and fail — and that no answer carries a whole national ID,\n\
     except `reveal` to someone entitled to it.\n\n",
    );
    table.push_str("| method | route |");
    for (role, account) in ROLES {
        table.push_str(&format!(
            " {role}{} |",
            account.map(|a| format!(" ({a})")).unwrap_or_default()
        ));
    }
    table.push_str("\n|---|---|");
    for _ in ROLES {
        table.push_str("---|");
    }
    table.push('\n');
    for (method, path, cells) in rows {
        table.push_str(&format!("| {method} | `{path}` |"));
        for c in cells {
            table.push_str(&format!(" {c} |"));
        }
        table.push('\n');
    }
    table
}

/// docs/authorisation.md says what the server does (rewritten with `QW_WRITE_AUTHZ=1`).
fn the_matrix_is_as_documented(table: &str) {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/authorisation.md");
    if std::env::var_os("QW_WRITE_AUTHZ").is_some() {
        std::fs::write(file, table).unwrap();
    }
    let documented = std::fs::read_to_string(file).unwrap_or_default();
    let want: Vec<&str> = documented.lines().collect();
    let got: Vec<&str> = table.lines().collect();
    let differ: Vec<String> = got
        .iter()
        .zip(want.iter().chain(std::iter::repeat(&"")))
        .filter(|(g, w)| g != w)
        .map(|(g, w)| format!("documented: {w}\n     found: {g}"))
        .collect();
    assert!(
        differ.is_empty() && got.len() == want.len(),
        "docs/authorisation.md differs from what the server does:\n{}",
        differ.join("\n")
    );
}
