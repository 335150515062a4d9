//! Resource limits over HTTP against the real binary (§3, 資通系統防護基準): query executions
//! per account answer 429 past the minute's limit on the page and in the API alike (one
//! counter), without holding up a colleague at the same address, and the refusal is on the
//! trail; oversize bodies and uploads answer 413 in the error envelope, whichever route.

use querywarden_testkit::people::{LI, LIN};
use querywarden_testkit::with_demo;

/// The default `[limits] execution_per_account`.
const EXECUTIONS_PER_MINUTE: usize = 60;

async fn status_and_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    let code = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|j| j["error"]["code"].as_str().map(String::from))
        .unwrap_or_else(|| {
            // A page names the code in its body.
            ["rate.limited", "request.too_large"]
                .into_iter()
                .find(|c| body.contains(c))
                .unwrap_or_default()
                .to_string()
        });
    (status, code)
}

#[test]
fn executions_past_the_minutes_limit_are_refused_429_on_page_and_api_and_audited() {
    let got = with_demo([LIN, LI], async |demo, [lin, li]| {
        // Every attempt counts, refused or not: a script probing numbers is stopped too.
        let path = "/api/v1/registrations/115-999999/execution";
        for i in 0..EXECUTIONS_PER_MINUTE {
            let r = lin.api_post(path, serde_json::json!({})).await;
            assert_eq!(r.status(), 404, "attempt {i}");
        }
        let r = lin.api_post(path, serde_json::json!({})).await;
        assert_eq!(status_and_code(r).await, (429, "rate.limited".to_string()));
        // The page shares the counter.
        let r = lin
            .post("/registrations/115-999999/execute", &[], true)
            .await;
        assert_eq!(status_and_code(r).await, (429, "rate.limited".to_string()));
        // A colleague at the same address has the minute to herself.
        let r = li.api_post(path, serde_json::json!({})).await;
        assert_eq!(r.status(), 404);

        // Oversize: a JSON body, a batch upload and a Form 1 body, each 413 in the envelope
        // (not 400 "malformed"), and nothing registered.
        let before = lin.api_get("/api/v1/registrations/inbox").await;
        let big = format!("{{\"items\": [\"{}\"]}}", "C".repeat(3 * 1024 * 1024));
        let r = lin
            .api_post_body("/api/v1/permissions/applications", big.clone())
            .await;
        assert_eq!(
            status_and_code(r).await,
            (413, "request.too_large".to_string())
        );
        let csv = format!(
            "subject_name,subject_id,legal_basis,relevance,case_no\n{}",
            "王大同,F131104093,social-assistance-44-3-1,x,115社助字第12號\n".repeat(46_000)
        );
        // The server answers 413 at its cap without reading the rest, so the client may
        // instead see the connection closed under its write; either way nothing is registered.
        match lin
            .try_post_csv("/registrations/batch", &[("items", "C0101")], &csv)
            .await
        {
            Ok(r) => assert_eq!(r.status(), 413),
            Err(e) => assert!(e.is_request() && !e.is_timeout(), "{e}"),
        }
        assert_eq!(lin.api_get("/api/v1/registrations/inbox").await, before);
        demo.trail().await
    });
    let limited = got
        .iter()
        .filter(|(a, o)| a == "access.refused" && o == "refused:rate.limited")
        .count();
    // Recorded once per window, not once per refused attempt (a flood is one event).
    assert_eq!(limited, 1, "{got:?}");
}
