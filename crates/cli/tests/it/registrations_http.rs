//! Query registration over HTTP against the real binary: register → approve →
//! execute (connected, against the demo's in-process BLI simulator) → view (watermark,
//! `no-store`) → print; the refusals a browser can meet (a second execution of the same item,
//! a non-party viewing, a missing CSRF token); and a Form 3 request from the district office
//! to the result it sees — through the pages and the JSON API. Also batch registration from
//! a CSV (all rows or none, errors by line) and portal mode (`demo --bli-mode portal`: the
//! querier records the execution and where the paper result is filed).

use querywarden_testkit::people::{CAI, CHEN, LI, LIN, XU};
use querywarden_testkit::workflow::RELEVANCE;
use querywarden_testkit::{Browser, Demo, Form2, Form3, id_after, location, rt, with_demo};

/// lin's registration of two items (C0101 and B0101) with this relevance.
fn two_items(relevance: &str) -> Form2<'_> {
    Form2 {
        items: vec!["C0101", "B0101"],
        relevance,
        ..Form2::default()
    }
}

#[test]
fn register_approve_execute_view_print_and_the_refusals_over_http() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("demo.log");
    let mut demo = Demo::start_logged(&log);
    rt().block_on(async {
        let [lin, chen, huang] = demo
            .sign_in_all(["lin.meiling", "chen.jianhong", "huang.yating"])
            .await;

        // The form offers lin's grants (demo: all nine items).
        let form = lin.page("/registrations/new").await;
        assert!(form.contains("value=\"C0101\"") && form.contains("value=\"P0401\""));

        a_placeholder_relevance_comes_back_with_the_id_only_in_its_field(&lin).await;

        // Register (lin for herself).
        let no = lin.register(&two_items(RELEVANCE)).await;
        let page = lin.page(&format!("/registrations/{no}")).await;
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
        let inbox = chen.page("/registrations").await;
        assert!(inbox.contains(&no));
        // Only the ethics office has an alerts section (empty: the demo has no restricted list).
        assert!(!inbox.contains("ethics-alerts"));
        let zheng = demo.sign_in("zheng.zhihao").await;
        let page = zheng.page("/registrations").await;
        assert!(page.contains("id=\"ethics-alerts-empty\""), "{page}");
        let j = zheng.api_get("/api/v1/registrations/inbox").await;
        assert_eq!(j["ethics_alerts"], serde_json::json!([]));
        chen.approve(&no).await;

        // Execute in connected mode against the simulator.
        lin.execute(&no).await;
        let page = lin.page(&format!("/registrations/{no}")).await;
        assert!(page.contains("id=\"result-open-C0101\""), "{page}");

        // A second execution of the same item is refused by the policy.
        lin.execute_shows(&no, &["C0101"], 409, "policy.already_executed")
            .await;

        the_result_is_viewed_and_printed_as_a_case_file_needs(&lin, &no).await;
        a_non_party_learns_nothing_and_the_api_tells_the_same_story(&lin, &huang, &no).await;
    });
    demo.stop();
    the_id_reached_neither_the_log_nor_the_database(&log, &demo);
}

/// A placeholder relevance is refused with its rule; the form comes back with what was typed,
/// the subject's ID in its field's value — and nowhere else on the page (nor in the address,
/// the log or the trail: checked at the end).
async fn a_placeholder_relevance_comes_back_with_the_id_only_in_its_field(lin: &Browser) {
    let r = lin
        .post("/registrations", &two_items("同上").fields(), true)
        .await;
    assert_eq!(r.status(), 422);
    assert!(!r.url().as_str().contains("F131104093"));
    assert!(r.headers().get("location").is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("registration.relevance"), "{page}");
    assert!(
        page.contains("autocomplete=\"off\" value=\"F131104093\">"),
        "the ID is kept in its field: {page}"
    );
    assert_eq!(page.matches("F131104093").count(), 1, "{page}");
    let message = page
        .split("id=\"reg-error\"")
        .nth(1)
        .and_then(|s| s.split("</div>").next())
        .unwrap();
    assert!(
        !message.contains("F131104093") && !message.contains("F13"),
        "{message}"
    );
    assert!(
        page.contains(">同上</textarea>"),
        "the relevance typed is kept"
    );
}

/// View: watermark naming the viewer, no-store, the records as a caseworker reads them. Print
/// for the case file: numbered, with the signed checkpoint; not without the CSRF token.
async fn the_result_is_viewed_and_printed_as_a_case_file_needs(lin: &Browser, no: &str) {
    let r = lin.get(&format!("/registrations/{no}/results/C0101")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("檢視者 林美玲（lin.meiling）"), "{page}");
    assert!(page.contains(&format!("登記編號 {no}")));
    assert!(page.contains("class=\"watermark\""));
    assert!(!page.contains("F131104093"));
    // The records read as a caseworker reads them: Chinese headings, ROC dates. The
    // simulator is deterministic and has enrolment records for this subject, so the
    // check always runs (inside an `if`, it could pass without looking at anything).
    assert!(page.contains("id=\"result-records\""), "{page}");
    assert!(
        page.contains("投保單位名稱") && page.contains("加保日期"),
        "{page}"
    );
    assert!(!page.contains("insuring_unit_name") && !page.contains(">enrol_date<"));
    let iso_date = regex_like_iso_date(&page);
    assert!(iso_date.is_none(), "an ISO date is shown: {iso_date:?}");

    // Print for the case file: numbered.
    let r = lin.print(no, "C0101", None).await;
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
}

/// A colleague who is no party may not view the result, nor learn that it exists; the JSON
/// API tells the same story as the pages.
async fn a_non_party_learns_nothing_and_the_api_tells_the_same_story(
    lin: &Browser,
    huang: &Browser,
    no: &str,
) {
    let r = huang
        .get(&format!("/registrations/{no}/results/C0101"))
        .await;
    assert_eq!(r.status(), 404);
    // The row answers as a number that does not exist would (no probing of numbers).
    let r = huang.get(&format!("/registrations/{no}")).await;
    assert_eq!(r.status(), 404);

    // The JSON API tells the same story.
    let j = lin.api_get(&format!("/api/v1/registrations/{no}")).await;
    assert_eq!(j["state"], "approved");
    assert_eq!(j["executed_items"], serde_json::json!(["B0101", "C0101"]));
    assert_eq!(
        lin.api_execute_code(no, &["B0101"]).await,
        (409, "policy.already_executed".into())
    );
    let r = huang
        .get(&format!("/api/v1/registrations/{no}/results/C0101"))
        .await;
    assert_eq!(r.status(), 404);
}

/// §9: the whole ID reached neither the log nor, in clear, the database (the trail carries
/// the subject as HMAC, the row sealed).
fn the_id_reached_neither_the_log_nor_the_database(log: &std::path::Path, demo: &Demo) {
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("registration"), "the log was written: {text}");
    assert!(!text.contains("F131104093"), "the ID is in the log");
    let db = demo.database();
    let folder = db.parent().unwrap();
    let name = db.file_name().unwrap().to_string_lossy().into_owned();
    let mut files = 0;
    for e in std::fs::read_dir(folder).unwrap() {
        let path = e.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&name)
        {
            let bytes = std::fs::read(&path).unwrap();
            files += 1;
            assert!(
                !bytes.windows(10).any(|w| w == b"F131104093"),
                "the ID in clear in {}",
                path.display()
            );
        }
    }
    assert!(files >= 1);
}

#[test]
fn a_form3_request_from_the_district_office_reaches_its_result() {
    with_demo([CAI, LI, XU], async |demo, [cai, li, xu]| {
        // Declared count that does not match the list: refused, and the list typed is kept
        // on the (no-store) page so that nothing has to be typed again.
        let wrong = Form3 {
            declared_subject_count: "2",
            ..Form3::default()
        };
        let r = cai.post("/requests", &wrong.fields(), true).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("data-code=\"request.subject_count\""));
        assert!(page.contains(">陳阿明,E123456783</textarea>"), "{page}");

        let rno = cai.request(&Form3::default()).await;

        // §5 ¶3: the district office's supervisor consents before the bureau sees it.
        let inbox = li.page("/registrations").await;
        assert!(!inbox.contains(&rno), "not before the office's consent");
        let yang = demo.sign_in("yang.shuling").await;
        yang.consent(&rno).await;

        // The responsible unit reviews: accepts, assigning li.guowei as querier.
        let inbox = li.page("/registrations").await;
        assert!(inbox.contains(&rno), "{inbox}");
        li.post_ok(
            &format!("/requests/{rno}/accept"),
            &[("querier", ""), ("opinion", "符合老人福利法規定，受理")],
        )
        .await;
        let view = li.api_get(&format!("/api/v1/requests/{rno}")).await;
        assert_eq!(view["state"], "accepted");
        let no = view["registrations"][0]["no"].as_str().unwrap().to_string();

        // Its supervisor approves, li executes and records delivery inside the system.
        xu.post_ok(&format!("/registrations/{no}/approve"), &[("comment", "")])
            .await;
        li.execute(&no).await;
        // §5 ¶3: the querier and the using unit's supervisor sign the request itself.
        for who in [&li, &xu] {
            who.post_ok(&format!("/requests/{rno}/sign"), &[]).await;
        }
        li.post_ok(
            &format!("/requests/{rno}/deliver"),
            &[("delivery", "in_system"), ("document_no", "")],
        )
        .await;

        // The requester sees the delivered result, watermarked with her name.
        let page = cai.page(&format!("/requests/{rno}")).await;
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
    with_demo([LIN, CHEN], async |_, [lin, chen]| {
        assert!(to_approve(&chen).await.is_empty());

        let page = lin.page("/registrations/batch").await;
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
    let demo = Demo::start_with(&["--bli-mode", "portal"]);
    rt().block_on(async {
        let [lin, chen] = demo.sign_in_all(["lin.meiling", "chen.jianhong"]).await;
        let form = Form2 {
            relevance: "急難救助申請，須查核申請人目前投保狀況以判斷是否失業",
            case_no: "",
            ..Form2::default()
        };
        let mut fields = form.fields();
        fields.push(("no_case_reason", "急難救助當日受理，尚未編案號"));
        let r = lin.post("/registrations", &fields, true).await;
        assert_eq!(r.status(), 303);
        let no = id_after(&location(&r), "/registrations/");
        chen.approve(&no).await;

        // Portal mode: the page links to the portal and asks for the querier's report.
        let page = lin.page(&format!("/registrations/{no}")).await;
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
        let page = lin.page(&format!("/registrations/{no}")).await;
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
        lin.post_shows(
            &format!("/registrations/{no}/execute"),
            &record,
            409,
            "policy.already_executed",
        )
        .await;
        let (status, _) = lin.api_execute(&no, &["C0101"]).await;
        assert_eq!(status, 409);
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
