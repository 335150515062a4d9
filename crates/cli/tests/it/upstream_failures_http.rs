//! When BLI fails (§5), over HTTP against the real binary with the demo's simulator injecting
//! faults (`demo --simulator-error-rate`, `--simulator-timeout-rate`, `--simulator-seed`): a
//! definite failure (an error answer) leaves the item open and a retry within the approval
//! gets the result; a timeout leaves the outcome unknown, a retry is refused until the
//! querier's statement resolves it, and then the item runs again.
//!
//! The simulator's fault draws are deterministic per seed and query order: with seed 5 the
//! first query draws 0.387 and the second 0.842, so at a rate of 0.5 the first fails and the
//! second is answered.

use querywarden_testkit::{Browser, Demo, Form2, assert_page, code_of, location, rt};

/// lin registers one item for herself and chen approves; returns the number.
async fn approved(lin: &Browser, chen: &Browser, subject: &str) -> String {
    let form = Form2 {
        subject_id: subject,
        ..Form2::default()
    };
    querywarden_testkit::approved(lin, chen, &form).await
}

#[test]
fn an_error_answer_leaves_the_item_open_and_the_retry_gets_the_result() {
    let demo = Demo::start_with(&["--simulator-error-rate", "0.5", "--simulator-seed", "5"]);
    rt().block_on(async {
        let [lin, chen] = demo.sign_in_all(["lin.meiling", "chen.jianhong"]).await;
        let no = approved(&lin, &chen, "F131104093").await;
        // The page says the query was not processed and may be run again.
        let r = lin
            .post(&format!("/registrations/{no}/execute"), &[], true)
            .await;
        assert_eq!(r.status(), 303);
        assert!(
            location(&r).ends_with("notice=execution_failed"),
            "{}",
            location(&r)
        );
        let page = lin
            .page(&format!("/registrations/{no}?notice=execution_failed"))
            .await;
        assert!(page.contains("項目仍可於核准有效期間內再查"), "{page}");
        assert!(page.contains("查詢失敗") && page.contains("bli.refused"));
        let j = lin.api_get(&format!("/api/v1/registrations/{no}")).await;
        assert_eq!(j["executed_items"], serde_json::json!([]));
        assert_eq!(j["awaiting_outcome"], serde_json::json!([]));
        // The retry, through the API, is answered.
        let (status, j) = lin.api_execute(&no, &["C0101"]).await;
        assert_eq!(status, 200);
        let outcome = j["items"][0]["outcome"].as_str().unwrap();
        assert!(["received", "no_data"].contains(&outcome), "{j}");
        // And now it is used up, by the page and the API alike.
        assert_eq!(
            lin.api_execute_code(&no, &["C0101"]).await,
            (409, "policy.already_executed".into())
        );
        lin.execute_shows(&no, &["C0101"], 409, "policy.already_executed")
            .await;

        // §6 ¶2 on the same result: whole records are not handed out by the API unless the
        // deployment turns it on (`registration.results_api`), by view or by print.
        let r = lin
            .get(&format!("/api/v1/registrations/{no}/results/C0101"))
            .await;
        assert_eq!(code_of(r).await, (403, "result.api_disabled".into()));
        let r = lin
            .api_post(
                &format!("/api/v1/registrations/{no}/results/C0101/print"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(r.status(), 403);
        // The page prints once; a second copy needs a reason, then carries its number.
        let print = |reason| lin.print(&no, "C0101", Some(reason));
        let r = print("").await;
        assert_page(r, 200, "列印第 1 份").await;
        let r = print("").await;
        assert_page(r, 409, "result.print_limit").await;
        let r = print("原件併案送會計室，另印一份歸檔").await;
        assert_page(r, 200, "列印第 2 份").await;
    });
}

#[test]
fn a_timeout_is_unknown_until_the_querier_states_it_then_the_item_runs_again() {
    let demo = Demo::start_with(&[
        "--simulator-timeout-rate",
        "0.5",
        "--simulator-seed",
        "5",
        "--bli-read-timeout-ms",
        "1500",
    ]);
    rt().block_on(async {
        let [lin, chen] = demo.sign_in_all(["lin.meiling", "chen.jianhong"]).await;
        let no = approved(&lin, &chen, "F131104093").await;
        assert!(
            lin.post_ok(&format!("/registrations/{no}/execute"), &[])
                .await
                .ends_with("notice=outcome_unknown")
        );
        let page = lin.page(&format!("/registrations/{no}")).await;
        assert!(page.contains("已送出，結果不明"), "{page}");
        assert!(page.contains("id=\"statement-C0101\""), "{page}");
        let j = lin.api_get(&format!("/api/v1/registrations/{no}")).await;
        assert_eq!(j["awaiting_outcome"], serde_json::json!(["C0101"]));
        // The retry is refused, page and API alike, with the same code.
        lin.execute_shows(&no, &["C0101"], 409, "policy.outcome_unknown")
            .await;
        assert_eq!(
            lin.api_execute_code(&no, &["C0101"]).await,
            (409, "policy.outcome_unknown".into())
        );
        // The supervisor cannot state for the querier; an empty statement is refused.
        let r = chen
            .api_post(
                &format!("/api/v1/registrations/{no}/executions/C0101/statement"),
                serde_json::json!({ "statement": "未收到結果" }),
            )
            .await;
        assert_eq!(r.status(), 403);
        lin.post_shows(
            &format!("/registrations/{no}/executions/C0101/statement"),
            &[("statement", "  ")],
            422,
            "execution.statement",
        )
        .await;
        // The querier's statement on the page resolves it.
        assert!(
            lin.post_ok(
                &format!("/registrations/{no}/executions/C0101/statement"),
                &[("statement", "畫面逾時，入口網站查無此次查詢結果")]
            )
            .await
            .ends_with("notice=stated")
        );
        let j = lin.api_get(&format!("/api/v1/registrations/{no}")).await;
        assert_eq!(j["awaiting_outcome"], serde_json::json!([]));
        // A second statement finds nothing waiting.
        assert_eq!(
            lin.api_post_code(
                &format!("/api/v1/registrations/{no}/executions/C0101/statement"),
                serde_json::json!({ "statement": "再次說明" })
            )
            .await,
            (409, "execution.nothing_awaiting".into())
        );
        // The item runs again and is answered.
        let (status, j) = lin.api_execute(&no, &["C0101"]).await;
        assert_eq!(status, 200);
        let outcome = j["items"][0]["outcome"].as_str().unwrap();
        assert!(["received", "no_data"].contains(&outcome), "{j}");
    });
}
