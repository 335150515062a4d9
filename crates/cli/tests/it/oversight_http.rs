//! Oversight over HTTP against the real binary (§4 ¶2, §7, §8 ¶2): the scheduler opens the
//! quarter's review at start; the director reads the dashboard with its SVG charts; the
//! permission administrator closes the review (page) and gets the report with the signed
//! checkpoint; a violation case is filed (API), reported (page) and accepted (API); and the
//! refusals — wrong person, after closing, missing CSRF token — answer with the same codes on
//! page and API and change nothing. The quarterly report to 勞工局 is rendered from the review
//! just closed (refused while it is open); the Form 2 register's form is on the supervisor's
//! and the director's pages; a document path naming no form is 404 on page and API, audited.

use std::time::Duration;

use querywarden_testkit::people::{CHEN, LIN, WU, ZHOU};
use querywarden_testkit::{Browser, assert_page, with_demo};

async fn first_review(admin: &Browser) -> serde_json::Value {
    // The scheduler runs at start; give it a moment on a loaded machine.
    for _ in 0..100 {
        let j = admin.api_get("/api/v1/oversight/reviews").await;
        if let Some(r) = j["reviews"].as_array().and_then(|a| a.first()) {
            return r.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the scheduler opened no review");
}

/// `who` asks over the API for a reconciliation of `from` to `to`: the status and the answer.
async fn reconcile(who: &Browser, from: &str, to: &str) -> (u16, serde_json::Value) {
    who.call_post(
        "/api/v1/oversight/reconciliation",
        serde_json::json!({ "from": from, "to": to }),
    )
    .await
}
#[test]
fn the_review_the_dashboard_and_a_corrective_report_over_http() {
    let people = [WU, ZHOU, LIN, CHEN];
    with_demo(people, async |demo, [admin, director, lin, chen]| {
        // The quarter just ended has its review, opened once by the scheduler.
        let review = first_review(&admin).await;
        assert_eq!(review["state"], "open");
        let id = review["id"].as_i64().unwrap();
        let all = admin.api_get("/api/v1/oversight/reviews").await;
        assert_eq!(all["reviews"].as_array().unwrap().len(), 1);

        the_dashboards_show_to_those_who_oversee(&director, &lin, &chen, id).await;
        let quarter = review["quarter"].as_str().unwrap().to_string();
        the_quarterly_report_waits_for_the_close(&admin, &quarter).await;
        a_path_naming_no_form_is_not_found(&admin).await;
        the_administrator_closes_the_review(&admin, &lin, id).await;
        the_report_to_the_labour_bureau_comes_from_the_closed_review(&admin, id, &quarter).await;
        the_document_refusals_are_on_the_trail(demo.data());
        a_violation_case_is_reported_and_accepted(&admin, &chen, &lin).await;

        // Reconcile any day (administrator only); bad dates are bad input.
        let (s, j) = reconcile(&admin, "2026-01-01", "2026-04-01").await;
        assert_eq!(s, 200);
        assert!(j["statistics"]["executions"].is_u64(), "{j}");
        let (s, _) = reconcile(&admin, "2026-04-01", "115-01-01").await;
        assert_eq!(s, 422);
        let (s, _) = reconcile(&lin, "2026-01-01", "2026-04-01").await;
        assert_eq!(s, 403);

        // Every oversight API route is in the OpenAPI document.
        let doc: serde_json::Value = lin.api_get("/api/openapi.json").await;
        assert!(doc["paths"]["/api/v1/oversight/violations/{id}/decision"]["post"].is_object());
    });
}

/// The director's dashboard: figures, the review, four charts drawn as SVG. A querier has
/// none; the supervisor sees the unit's activity with the form for the unit's Form 2
/// register, which the director's overview has too and a querier's does not.
async fn the_dashboards_show_to_those_who_oversee(
    director: &Browser,
    lin: &Browser,
    chen: &Browser,
    id: i64,
) {
    let r = director.get("/oversight").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"ov-dashboard\""), "{page}");
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(page.contains(&format!("/oversight/reviews/{id}")));
    assert!(!page.contains("<script>"), "charts need no JavaScript");
    let j = director.api_get("/api/v1/oversight/dashboard").await;
    assert!(
        j["open_findings"].is_u64() && j["overdue_reports"].is_u64(),
        "{j}"
    );
    // A querier has no dashboard: the page leaves it out, the API refuses.
    let page = lin.page("/oversight").await;
    assert!(!page.contains("id=\"ov-dashboard\""));
    let r = lin.get("/api/v1/oversight/dashboard").await;
    assert_eq!(r.status(), 403);
    // The supervisor sees the unit's activity, with the form for the unit's Form 2
    // register; the director's overview has it too, a querier's does not.
    let r = chen.get("/oversight/unit").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("action=\"/documents/register\""), "{page}");
    assert!(
        page.contains("name=\"unit\" value=\"social-assistance\""),
        "{page}"
    );
    assert_eq!(lin.get("/oversight/unit").await.status(), 403);
    let page = director.get("/oversight").await.text().await.unwrap();
    assert!(page.contains("action=\"/documents/register\""));
    let page = lin.get("/oversight").await.text().await.unwrap();
    assert!(!page.contains("action=\"/documents/register\""));
}

/// The quarterly report is refused while its review is open, page and API alike.
async fn the_quarterly_report_waits_for_the_close(admin: &Browser, quarter: &str) {
    let r = admin
        .get(&format!("/api/v1/documents/quarterly/{quarter}"))
        .await;
    assert_eq!(r.status(), 409);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "documents.quarter_not_closed");
    let r = admin.get(&format!("/documents/quarterly/{quarter}")).await;
    assert_page(r, 409, "data-code=\"documents.quarter_not_closed\"").await;
}

/// A document path that names no form: 404 with the same code on page and API.
async fn a_path_naming_no_form_is_not_found(admin: &Browser) {
    let r = admin.get("/documents/form9/1").await;
    assert_eq!(r.status(), 404);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-code=\"documents.not_found\""), "{page}");
    assert!(page.contains("找不到此文件所屬的紀錄"), "{page}");
    let r = admin.get("/api/v1/documents/form9/1").await;
    assert_eq!(r.status(), 404);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "documents.not_found");
}

/// §8 ¶2 closing: without the CSRF token refused; by a querier refused (audited, code in the
/// body); by the administrator done, with the report and the checkpoint.
async fn the_administrator_closes_the_review(admin: &Browser, lin: &Browser, id: i64) {
    let r = admin
        .post(&format!("/oversight/reviews/{id}/close"), &[], false)
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        lin.api_post_code(
            &format!("/api/v1/oversight/reviews/{id}/close"),
            serde_json::json!({})
        )
        .await,
        (403, "review.not_administrator".into())
    );
    admin
        .post_ok(&format!("/oversight/reviews/{id}/close"), &[])
        .await;
    let j = admin
        .api_get(&format!("/api/v1/oversight/reviews/{id}"))
        .await;
    assert_eq!(j["state"], "closed");
    assert!(j["report"]["quarter"].is_string(), "{j}");
}

/// §7: the report to 勞工局 from the review just closed — its period, its reviewer and the
/// signed checkpoint — as a web page and as PDF; closing again is refused on API and page.
async fn the_report_to_the_labour_bureau_comes_from_the_closed_review(
    admin: &Browser,
    id: i64,
    quarter: &str,
) {
    let r = admin.get(&format!("/documents/quarterly/{quarter}")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("使用紀錄檢查結果報告"), "{page}");
    assert!(
        page.contains("（權限管理者）"),
        "the reviewer is named: {page}"
    );
    assert!(page.contains("稽核紀錄查核點"), "{page}");
    assert!(page.contains("id=\"document-pdf\""), "{page}");
    let r = admin
        .get(&format!("/api/v1/documents/quarterly/{quarter}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(
        admin
            .api_post_code(
                &format!("/api/v1/oversight/reviews/{id}/close"),
                serde_json::json!({})
            )
            .await,
        (409, "review.closed".into())
    );
    // The page shows the same refusal with the same code.
    admin
        .post_shows(
            &format!("/oversight/reviews/{id}/close"),
            &[],
            409,
            "review.closed",
        )
        .await;
}

/// The document refusals are on the trail: the unknown form (nothing typed kept) and the
/// unclosed quarter; the report produced once closed.
fn the_document_refusals_are_on_the_trail(data: &std::path::Path) {
    let o = querywarden_testkit::binary::command()
        .args(["audit", "search", "--action", "report.generated", "--data"])
        .arg(data)
        .output()
        .unwrap();
    let trail = querywarden_testkit::binary::stdout(&o);
    assert!(
        trail.contains("document:-\trefused:documents.not_found"),
        "{trail}"
    );
    assert!(!trail.contains("form9"), "{trail}");
    assert!(
        trail.contains("refused:documents.quarter_not_closed"),
        "{trail}"
    );
}

/// A case filed by the administrator (API), hidden from others; lin is told, reports on the
/// page, the administrator accepts over the API; a report after closing is refused alike.
async fn a_violation_case_is_reported_and_accepted(admin: &Browser, chen: &Browser, lin: &Browser) {
    let r = admin
        .api_post(
            "/api/v1/oversight/violations",
            serde_json::json!({
                "account": "lin.meiling",
                "rule": "§6 查調結果以電子郵件傳送",
                "evidence": "資訊小組郵件紀錄",
                "suspend_grants": false,
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let case = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    // Someone else may neither read nor answer it, nor learn that it exists.
    assert_eq!(
        chen.get(&format!("/api/v1/oversight/violations/{case}"))
            .await
            .status(),
        404
    );
    let r = chen
        .api_post(
            &format!("/api/v1/oversight/violations/{case}/report"),
            serde_json::json!({ "report": "x" }),
        )
        .await;
    assert_eq!(r.status(), 404);
    // lin is told in her oversight notices, sees the case and reports on the page; the
    // administrator accepts over the API.
    let page = lin.page("/oversight").await;
    assert!(page.contains("id=\"ov-notices\""), "{page}");
    assert!(page.contains(&format!("/oversight/violations/{case}")));
    let page = lin.page("/oversight/violations").await;
    assert!(page.contains(&format!("/oversight/violations/{case}")));
    assert!(
        lin.post_ok(
            &format!("/oversight/violations/{case}/report"),
            &[("report", "已刪除寄出的郵件並完成個資保護教育訓練")]
        )
        .await
        .starts_with(&format!("/oversight/violations/{case}"))
    );
    let r = admin
        .api_post(
            &format!("/api/v1/oversight/violations/{case}/decision"),
            serde_json::json!({ "decision": "accept" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let j = lin
        .api_get(&format!("/api/v1/oversight/violations/{case}"))
        .await;
    assert_eq!(j["state"], "accepted");
    // A report after closing: refused with the same code on API and page.
    assert_eq!(
        lin.api_post_code(
            &format!("/api/v1/oversight/violations/{case}/report"),
            serde_json::json!({ "report": "補充" })
        )
        .await,
        (409, "violation.closed".into())
    );
    let r = lin
        .post(
            &format!("/oversight/violations/{case}/report"),
            &[("report", "補充")],
            true,
        )
        .await;
    assert!(r.text().await.unwrap().contains("violation.closed"));
}
