//! Query registration over HTTP against the real binary: register → approve →
//! execute (connected, against the demo's in-process BLI simulator) → view (watermark,
//! `no-store`) → print; the refusals a browser can meet (a second execution of the same item,
//! a non-party viewing, a missing CSRF token); and a Form 3 request from the district office
//! to the result it sees — through the pages and the JSON API. Also batch registration from
//! a CSV (all rows or none, errors by line) and portal mode (`demo --bli-mode portal`: the
//! querier records the execution and where the paper result is filed).

use super::sign_in_http::{client, cookie_value, login, set_cookies};
use super::support::{reqwest::rt, spawn_demo_fast, spawn_demo_fast_with};

const PASSWORD: &str = "demo-password-115";

/// A signed-in browser: its session cookie and CSRF token (also used by other HTTP tests).
pub(crate) struct Browser {
    pub(crate) url: String,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
    pub(crate) c: reqwest::Client,
}

impl Browser {
    pub(crate) async fn sign_in(url: &str, account: &str) -> Browser {
        let r = login(url, account, PASSWORD, "").await;
        assert_eq!(r.status(), 303, "{account} signs in");
        let session = cookie_value(&set_cookies(&r), "qw_session").unwrap();
        let cookie = format!("qw_session={session}");
        let c = client();
        let me: serde_json::Value = c
            .get(format!("{url}/api/v1/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Browser {
            url: url.to_string(),
            csrf: me["csrf_token"].as_str().unwrap().to_string(),
            cookie,
            c,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.c
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// A form POST; the CSRF token is added unless `csrf` is false.
    pub(crate) async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            body.push(("csrf", &self.csrf));
        }
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .form(&body)
            .send()
            .await
            .unwrap()
    }

    /// A multipart POST (the batch page): the fields, the CSRF token and `file` as a CSV.
    pub(crate) async fn post_csv(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csv: &str,
    ) -> reqwest::Response {
        self.try_post_csv(path, fields, csv).await.unwrap()
    }

    /// [`Self::post_csv`] that hands back a transport error: a server that refuses an
    /// oversize upload at its cap may close the connection while the client is still writing.
    pub(crate) async fn try_post_csv(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csv: &str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut form = reqwest::multipart::Form::new().text("csrf", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let file = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
            .file_name("subjects.csv")
            .mime_str("text/csv")
            .unwrap();
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .multipart(form.part("file", file))
            .send()
            .await
    }

    pub(crate) async fn api_get(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }

    pub(crate) async fn api_post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.c
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// `/registrations/115-000001?notice=…` → `115-000001`.
fn number_in(location: &str, prefix: &str) -> String {
    location
        .strip_prefix(prefix)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn register_approve_execute_view_print_and_the_refusals_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let lin = Browser::sign_in(&url, "lin.meiling").await;
        let chen = Browser::sign_in(&url, "chen.jianhong").await;
        let huang = Browser::sign_in(&url, "huang.yating").await;

        // The form offers lin's grants (demo: all nine items).
        let form = lin.get("/registrations/new").await.text().await.unwrap();
        assert!(form.contains("value=\"C0101\"") && form.contains("value=\"P0401\""));

        // A placeholder relevance is refused with its rule, and the ID is not echoed back.
        let fields = |relevance: &'static str| {
            vec![
                ("subject_name", "王大同"),
                ("subject_id", "F131104093"),
                ("items", "C0101"),
                ("items", "B0101"),
                ("legal_basis", "social-assistance-44-3-1"),
                ("relevance", relevance),
                ("case_no", "115社助字第12號"),
                ("needer", ""),
                ("querier", ""),
            ]
        };
        let r = lin.post("/registrations", &fields("同上"), true).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("registration.relevance"), "{page}");
        assert!(!page.contains("F131104093"));

        // Register (lin for herself).
        let r = lin
            .post(
                "/registrations",
                &fields("申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入"),
                true,
            )
            .await;
        assert_eq!(r.status(), 303);
        let no = number_in(&location(&r), "/registrations/");
        let page = lin
            .get(&format!("/registrations/{no}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-state=\"registered\""));
        // The register page shows the subject's ID masked, never whole.
        assert!(page.contains("F13****093"), "masked ID missing");
        assert!(!page.contains("F131104093"), "whole ID on the page");

        // CSRF missing: refused, nothing approved.
        let r = chen
            .post(
                &format!("/registrations/{no}/approve"),
                &[("comment", "")],
                false,
            )
            .await;
        assert_eq!(r.status(), 403);

        // The supervisor sees it in the inbox and approves.
        let inbox = chen.get("/registrations").await.text().await.unwrap();
        assert!(inbox.contains(&no));
        // Only the ethics office has an alerts section (empty: the demo has no restricted list).
        assert!(!inbox.contains("ethics-alerts"));
        let zheng = Browser::sign_in(&url, "zheng.zhihao").await;
        let page = zheng.get("/registrations").await.text().await.unwrap();
        assert!(page.contains("id=\"ethics-alerts-empty\""), "{page}");
        let j = zheng.api_get("/api/v1/registrations/inbox").await;
        assert_eq!(j["ethics_alerts"], serde_json::json!([]));
        let r = chen
            .post(
                &format!("/registrations/{no}/approve"),
                &[("comment", "同意")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);

        // Execute in connected mode against the simulator.
        let r = lin
            .post(&format!("/registrations/{no}/execute"), &[], true)
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let page = lin
            .get(&format!("/registrations/{no}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"result-open-C0101\""), "{page}");

        // A second execution of the same item is refused by the policy.
        let r = lin
            .post(
                &format!("/registrations/{no}/execute"),
                &[("items", "C0101")],
                true,
            )
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("policy.already_executed"));

        // View: watermark naming the viewer, no-store.
        let r = lin.get(&format!("/registrations/{no}/results/C0101")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = r.text().await.unwrap();
        assert!(page.contains("檢視者 林美玲（lin.meiling）"), "{page}");
        assert!(page.contains(&format!("登記編號 {no}")));
        assert!(page.contains("class=\"watermark\""));
        assert!(!page.contains("F131104093"));
        // The records read as a caseworker reads them: Chinese headings, ROC dates.
        if page.contains("id=\"result-records\"") {
            assert!(
                page.contains("投保單位名稱") && page.contains("加保日期"),
                "{page}"
            );
            assert!(!page.contains("insuring_unit_name") && !page.contains(">enrol_date<"));
            let iso_date = regex_like_iso_date(&page);
            assert!(iso_date.is_none(), "an ISO date is shown: {iso_date:?}");
        }

        // Print for the case file: numbered.
        let r = lin
            .post(
                &format!("/registrations/{no}/results/C0101/print"),
                &[],
                true,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = r.text().await.unwrap();
        assert!(page.contains("列印第 1 份"), "{page}");
        // The print carries the signed checkpoint that covers its own audit record.
        assert!(page.contains("id=\"print-checkpoint\""), "{page}");
        assert!(page.contains("— querywarden-audit-"), "{page}");
        let r = lin
            .post(
                &format!("/registrations/{no}/results/C0101/print"),
                &[],
                false,
            )
            .await;
        assert_eq!(r.status(), 403, "print without CSRF");

        // A colleague who is no party may not view it, nor learn that it exists.
        let r = huang
            .get(&format!("/registrations/{no}/results/C0101"))
            .await;
        assert_eq!(r.status(), 404);
        // The row answers as a number that does not exist would (no probing of numbers).
        let r = huang.get(&format!("/registrations/{no}")).await;
        assert_eq!(r.status(), 404);

        // The JSON API tells the same story.
        let j: serde_json::Value = lin
            .get(&format!("/api/v1/registrations/{no}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(j["state"], "approved");
        assert_eq!(j["executed_items"], serde_json::json!(["B0101", "C0101"]));
        let r = lin
            .api_post(
                &format!("/api/v1/registrations/{no}/execution"),
                serde_json::json!({ "items": ["B0101"] }),
            )
            .await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
            "policy.already_executed"
        );
        let r = huang
            .get(&format!("/api/v1/registrations/{no}/results/C0101"))
            .await;
        assert_eq!(r.status(), 404);
    });
}

#[test]
fn a_form3_request_from_the_district_office_reaches_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let cai = Browser::sign_in(&url, "cai.peiling").await;
        let li = Browser::sign_in(&url, "li.guowei").await;
        let xu = Browser::sign_in(&url, "xu.wenjie").await;

        // Declared count that does not match the list: refused, and the list typed is kept
        // on the (no-store) page so that nothing has to be typed again.
        let mut fields = vec![
            ("applicant_title", "課員"),
            ("phone", "07-5511111"),
            ("fax", ""),
            ("responsible_unit", "elderly-welfare"),
            ("legal_basis", "senior-citizens-welfare-12-1-2"),
            (
                "relevance",
                "中低收入老人生活津貼申請，需確認申請人就業收入",
            ),
            ("items", "C0101"),
            ("subjects", "陳阿明,E123456783"),
        ];
        let mut wrong = fields.clone();
        wrong.push(("declared_subject_count", "2"));
        let r = cai.post("/requests", &wrong, true).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("data-code=\"request.subject_count\""));
        assert!(page.contains(">陳阿明,E123456783</textarea>"), "{page}");

        fields.push(("declared_subject_count", "1"));
        let r = cai.post("/requests", &fields, true).await;
        assert_eq!(r.status(), 303);
        let rno = number_in(&location(&r), "/requests/");

        // §5 ¶3: the district office's supervisor consents before the bureau sees it.
        let inbox = li.get("/registrations").await.text().await.unwrap();
        assert!(!inbox.contains(&rno), "not before the office's consent");
        let yang = Browser::sign_in(&url, "yang.shuling").await;
        let r = yang
            .post(
                &format!("/requests/{rno}/consent"),
                &[("decision", "consent"), ("reason", "")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);

        // The responsible unit reviews: accepts, assigning li.guowei as querier.
        let inbox = li.get("/registrations").await.text().await.unwrap();
        assert!(inbox.contains(&rno), "{inbox}");
        let r = li
            .post(
                &format!("/requests/{rno}/accept"),
                &[("querier", ""), ("opinion", "符合老人福利法規定，受理")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);
        let view: serde_json::Value = li
            .get(&format!("/api/v1/requests/{rno}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["state"], "accepted");
        let no = view["registrations"][0]["no"].as_str().unwrap().to_string();

        // Its supervisor approves, li executes and records delivery inside the system.
        let r = xu
            .post(
                &format!("/registrations/{no}/approve"),
                &[("comment", "")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = li
            .post(&format!("/registrations/{no}/execute"), &[], true)
            .await;
        assert_eq!(r.status(), 303);
        // §5 ¶3: the querier and the using unit's supervisor sign the request itself.
        for who in [&li, &xu] {
            let r = who.post(&format!("/requests/{rno}/sign"), &[], true).await;
            assert_eq!(r.status(), 303);
        }
        let r = li
            .post(
                &format!("/requests/{rno}/deliver"),
                &[("delivery", "in_system"), ("document_no", "")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);

        // The requester sees the delivered result, watermarked with her name.
        let page = cai
            .get(&format!("/requests/{rno}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("/registrations/{no}/results/C0101")),
            "{page}"
        );
        let r = cai.get(&format!("/registrations/{no}/results/C0101")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("檢視者 蔡佩玲（cai.peiling）")
        );
    });
}

/// Registration numbers waiting for `b`'s approval.
async fn to_approve(b: &Browser) -> Vec<String> {
    let inbox = b.api_get("/api/v1/registrations/inbox").await;
    inbox["to_approve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["no"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_batch_csv_registers_every_row_or_none_and_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast(&dir.path().join("data"));
    let url = demo.url.clone();
    rt().block_on(async move {
        let lin = Browser::sign_in(&url, "lin.meiling").await;
        let chen = Browser::sign_in(&url, "chen.jianhong").await;
        assert!(to_approve(&chen).await.is_empty());

        let page = lin.get("/registrations/batch").await.text().await.unwrap();
        assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");

        let fields = |relevance: &'static str| {
            vec![
                ("items", "C0101"),
                ("legal_basis", "social-assistance-44-3-1"),
                ("relevance", relevance),
                ("case_no", "115社助字第88號"),
                ("needer", ""),
                ("querier", ""),
            ]
        };
        // One good batch (header line, three subjects): every row registered.
        let good = "姓名,身分證統一編號\n王小明,F120000011\n李小華,F220000022\n張大山,E223456785\n";
        let r = lin
            .post_csv(
                "/registrations/batch",
                &fields("115 年度低收入戶總清查，須查核各戶成員投保薪資以核算家庭總收入"),
                good,
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(location(&r), "/registrations?notice=batch");
        let pending = to_approve(&chen).await;
        assert_eq!(pending.len(), 3, "{pending:?}");

        // A batch with one bad line (line 3: check digit wrong): nothing registered, the line
        // named, the bad value not echoed.
        let bad = "姓名,身分證統一編號\n陳一,A123450009\n陳二,B200000772\n";
        let r = lin
            .post_csv(
                "/registrations/batch",
                &fields("115 年度中低收入戶複查，須查核各戶成員之就業收入與投保狀況"),
                bad,
            )
            .await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("registration.batch_rows"), "{page}");
        assert!(page.contains("第 3 行"), "{page}");
        assert!(!page.contains("第 2 行"), "{page}");
        assert!(!page.contains("B200000772") && !page.contains("A123450009"));
        assert_eq!(to_approve(&chen).await, pending, "nothing more registered");

        // Without the CSRF token the batch page registers nothing.
        let r = lin
            .c
            .post(format!("{}/registrations/batch", lin.url))
            .header("cookie", &lin.cookie)
            .multipart(reqwest::multipart::Form::new().text("items", "C0101").part(
                "file",
                reqwest::multipart::Part::bytes(good.as_bytes().to_vec()).file_name("subjects.csv"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(to_approve(&chen).await.len(), 3);
    });
}

#[test]
fn portal_mode_records_an_execution_with_its_paper_case_number_once() {
    let dir = tempfile::tempdir().unwrap();
    let demo = spawn_demo_fast_with(&dir.path().join("data"), &["--bli-mode", "portal"]);
    let url = demo.url.clone();
    rt().block_on(async move {
        let lin = Browser::sign_in(&url, "lin.meiling").await;
        let chen = Browser::sign_in(&url, "chen.jianhong").await;
        let r = lin
            .post(
                "/registrations",
                &[
                    ("subject_name", "王大同"),
                    ("subject_id", "F131104093"),
                    ("items", "C0101"),
                    ("legal_basis", "social-assistance-44-3-1"),
                    (
                        "relevance",
                        "急難救助申請，須查核申請人目前投保狀況以判斷是否失業",
                    ),
                    ("case_no", ""),
                    ("no_case_reason", "急難救助當日受理，尚未編案號"),
                    ("needer", ""),
                    ("querier", ""),
                ],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);
        let no = number_in(&location(&r), "/registrations/");
        let r = chen
            .post(
                &format!("/registrations/{no}/approve"),
                &[("comment", "同意")],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);

        // Portal mode: the page links to the portal and asks for the querier's report.
        let page = lin
            .get(&format!("/registrations/{no}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"reg-portal-link\""), "{page}");
        assert!(page.contains("name=\"paper_case_no\""));

        let record = [
            ("items", "C0101"),
            ("note", "已於我的E政府查詢"),
            ("paper_case_no", "115社助字第34號"),
        ];
        let r = lin
            .post(&format!("/registrations/{no}/execute"), &record, true)
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());

        // The registration shows it executed, in portal mode, with where the paper is filed.
        let j = lin.api_get(&format!("/api/v1/registrations/{no}")).await;
        assert_eq!(j["executed_items"], serde_json::json!(["C0101"]));
        let page = lin
            .get(&format!("/registrations/{no}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"reg-executions\""), "{page}");
        assert!(page.contains("115社助字第34號"), "{page}");
        assert!(
            !page.contains("id=\"execute-form\""),
            "nothing left to execute"
        );
        assert!(
            lin.api_get("/api/v1/registrations/inbox").await["to_execute"]
                .as_array()
                .unwrap()
                .is_empty()
        );

        // A second record for the same item is refused by the policy.
        let r = lin
            .post(&format!("/registrations/{no}/execute"), &record, true)
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("policy.already_executed"));
        let r = lin
            .api_post(
                &format!("/api/v1/registrations/{no}/execution"),
                serde_json::json!({ "items": ["C0101"] }),
            )
            .await;
        assert_eq!(r.status(), 409);
    });
}

/// The first `YYYY-MM-DD` inside a table cell of the page, if any.
fn regex_like_iso_date(page: &str) -> Option<String> {
    page.split("<td>").skip(1).find_map(|cell| {
        let text = cell.split('<').next().unwrap_or_default();
        let b = text.as_bytes();
        (b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()))
        .then(|| text.to_string())
    })
}
