//! Bulk work over HTTP against the real binary (§5): the supervisor's approval queue and
//! bulk decision, and the querier running every approved item of a Form 3 request at once —
//! through the pages and the JSON API, which refuse the same things with the same codes.

use querywarden_testkit::org::nid;
use querywarden_testkit::people::{CAI, CHEN, LI, LIN, XU, YANG};
use querywarden_testkit::{Browser, Form2, Form3, with_demo};

/// A refusal of the whole bulk action: the page's fields, the API's body, the status and
/// the code both answer with.
type Refused<'a> = (&'a [(&'a str, &'a str)], serde_json::Value, u16, &'a str);

/// lin registers one subject for herself on the page; its number.
async fn register(lin: &Browser, subject_id: &str, relevance: &str) -> String {
    lin.register(&Form2 {
        subject_name: "王大同",
        subject_id,
        relevance,
        ..Form2::default()
    })
    .await
}

/// The `data-code` of the row of `no` in the page's table `table`.
fn row_attr(page: &str, table: &str, no: &str, attr: &str) -> Option<String> {
    let t = page.split(&format!("id=\"{table}\"")).nth(1)?;
    let t = t.split("</table>").next()?;
    let row = t.split(&format!("data-no=\"{no}\"")).nth(1)?;
    let row = row.split("</tr>").next()?;
    let v = row.split(&format!("{attr}=\"")).nth(1)?;
    Some(v.split('"').next()?.to_string())
}

/// The state of registration `no`, as lin reads it on the API.
async fn state(lin: &Browser, no: &str) -> serde_json::Value {
    lin.api_get(&format!("/api/v1/registrations/{no}")).await["state"].clone()
}

#[test]
fn the_bulk_decision_page_and_api_decide_each_registration_and_refuse_alike() {
    with_demo([LIN, CHEN], async |_, [lin, chen]| {
        let ids = [
            nid("A1", 6001),
            nid("A1", 6002),
            nid("A1", 6003),
            nid("A1", 6004),
        ];
        let a = register(&lin, &ids[0], "低收入戶資格審查，須查核申請人甲之投保薪資").await;
        let b = register(&lin, &ids[1], "中低收入戶複查，須確認申請人乙目前就業狀況").await;
        let c = register(&lin, &ids[2], "急難救助申請，須確認申請人丙是否仍有投保").await;
        let d = register(&lin, &ids[3], "身心障礙者生活補助複查，須確認申請人丁收入").await;

        the_queue_shows_what_to_decide(&chen, &lin, [(&a, &ids[0]), (&b, &ids[1]), (&c, &ids[2])])
            .await;

        // Without the CSRF token nothing is decided.
        let r = chen
            .post(
                "/registrations/decisions",
                &[("registrations", a.as_str()), ("decision", "approve")],
                false,
            )
            .await;
        assert_eq!(r.status(), 403);

        // c is withdrawn meanwhile.
        lin.post_ok(&format!("/registrations/{c}/cancel"), &[])
            .await;

        // The page: a approved, c refused with its code; the result lists both.
        let r = chen
            .post(
                "/registrations/decisions",
                &[
                    ("registrations", a.as_str()),
                    ("registrations", c.as_str()),
                    ("decision", "approve"),
                    ("comment", "同意"),
                ],
                true,
            )
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert_eq!(
            row_attr(&page, "bulk-decided", &a, "data-state").as_deref(),
            Some("approved"),
            "{page}"
        );
        assert_eq!(
            row_attr(&page, "bulk-refused", &c, "data-code").as_deref(),
            Some("registration.wrong_state"),
            "{page}"
        );
        assert!(page.contains("已處理 1 筆，未能處理 1 筆"), "{page}");

        // The API: b approved, c refused with the same code as on the page.
        let (s, j) = chen
            .call_post(
                "/api/v1/registrations/decisions",
                serde_json::json!({ "decision": "approve", "registrations": [b, c] }),
            )
            .await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(
            j["decided"],
            serde_json::json!([{ "no": b, "state": "approved" }])
        );
        assert_eq!(j["refused"][0]["no"], c.as_str());
        assert_eq!(j["refused"][0]["code"], "registration.wrong_state");
        assert!(j["refused"][0]["message_en"].is_string());
        assert_eq!(state(&lin, &a).await, "approved");
        assert_eq!(state(&lin, &b).await, "approved");
        assert_eq!(state(&lin, &c).await, "cancelled");

        the_whole_action_is_refused_alike(&chen, &lin, &d).await;
    });
}

/// §5: the queue shows name, masked ID, querier, basis and relevance of each registration in
/// `waiting`, never a whole ID; a querier has nothing to decide.
async fn the_queue_shows_what_to_decide(
    chen: &Browser,
    lin: &Browser,
    waiting: [(&String, &String); 3],
) {
    let queue = chen.page("/registrations/approvals").await;
    for (no, id) in waiting {
        assert!(queue.contains(&format!("id=\"bulk-pick-{no}\"")), "{queue}");
        assert!(queue.contains(&format!("{}****{}", &id[..3], &id[7..])));
        assert!(!queue.contains(id.as_str()), "a whole ID on the queue");
    }
    assert!(queue.contains("王大同") && queue.contains("林美玲"));
    assert!(queue.contains("須確認申請人乙目前就業狀況"));
    assert!(
        chen.page("/registrations")
            .await
            .contains("id=\"bulk-open\"")
    );
    // A querier has nothing to decide.
    assert!(
        lin.page("/registrations/approvals")
            .await
            .contains("id=\"bulk-empty\"")
    );
}

/// Refusals of the whole action (none chosen, a rejection without a reason, a decision that
/// is none): the page and the API, same status and code, and `d` left undecided. A number
/// that cannot be one is malformed on both.
async fn the_whole_action_is_refused_alike(chen: &Browser, lin: &Browser, d: &str) {
    let cases: [Refused<'_>; 3] = [
        (
            &[("decision", "approve")],
            serde_json::json!({ "decision": "approve", "registrations": [] }),
            422,
            "bulk.none_chosen",
        ),
        (
            &[
                ("registrations", d),
                ("decision", "reject"),
                ("comment", " "),
            ],
            serde_json::json!({ "decision": "reject", "comment": " ", "registrations": [d] }),
            422,
            "approval.comment_required",
        ),
        (
            &[("registrations", d), ("decision", "maybe")],
            serde_json::json!({ "decision": "maybe", "registrations": [d] }),
            422,
            "request.malformed",
        ),
    ];
    for (fields, body, status, code) in cases {
        let r = chen.post("/registrations/decisions", fields, true).await;
        assert_eq!(r.status().as_u16(), status, "page, {code}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains(&format!("data-code=\"{code}\"")),
            "page, {code}: {page}"
        );
        let (s, j) = chen
            .call_post("/api/v1/registrations/decisions", body)
            .await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (status, Some(code)),
            "{j}"
        );
    }
    assert_eq!(
        state(lin, d).await,
        "registered",
        "nothing decided by a refusal"
    );
    // A number that cannot be one is malformed on both.
    let (s, j) = chen
        .call_post(
            "/api/v1/registrations/decisions",
            serde_json::json!({ "decision": "approve", "registrations": ["x"] }),
        )
        .await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (422, Some("request.malformed"))
    );
}

#[test]
fn the_querier_runs_every_approved_item_of_a_form3_request_on_the_page_and_through_the_api() {
    with_demo([CAI, YANG, LI, XU], async |demo, [cai, yang, li, xu]| {
        let (rno, regs) = a_request_accepted_into_two_registrations(&cai, &yang, &li).await;

        // Nothing approved: no button, and both answers refuse alike.
        assert!(
            !li.page(&format!("/requests/{rno}"))
                .await
                .contains("id=\"run-all\"")
        );
        let r = li
            .post(&format!("/requests/{rno}/execute"), &[], true)
            .await;
        assert_eq!(r.status(), 409);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("data-code=\"request.nothing_to_execute\""),
            "{page}"
        );
        let (s, j) = runs_all(&li, &rno).await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (409, Some("request.nothing_to_execute"))
        );

        // One approved: the page runs it, and lists its item with the outcome.
        xu.approve(&regs[0]).await;
        let page = li.page(&format!("/requests/{rno}")).await;
        assert!(page.contains("id=\"run-all\""), "{page}");
        // Only the assigned querier may run it; others see no button.
        assert!(
            !xu.page(&format!("/requests/{rno}"))
                .await
                .contains("id=\"run-all\"")
        );
        let r = li
            .post(&format!("/requests/{rno}/execute"), &[], true)
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        let outcome = row_attr(&page, "run-all-lines", &regs[0], "data-outcome");
        assert!(
            matches!(outcome.as_deref(), Some("received" | "no_data")),
            "{page}"
        );
        assert!(!page.contains(&regs[1]), "the unapproved one did not run");

        // The second approved later: the API runs only it.
        xu.approve(&regs[1]).await;
        let (s, j) = runs_all(&li, &rno).await;
        assert_eq!(s, 200, "{j}");
        let runs = j["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{j}");
        assert_eq!(runs[0]["no"], regs[1].as_str());
        assert_eq!(runs[0]["items"][0]["item"], "C0101");

        // Someone who may not see the request is answered as for a number that does not exist.
        let lin = demo.sign_in("lin.meiling").await;
        let (s, j) = runs_all(&lin, &rno).await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (404, Some("registration.not_found"))
        );
    });
}

/// `who` asks the API to run every approved registration of request `rno`.
async fn runs_all(who: &Browser, rno: &str) -> (u16, serde_json::Value) {
    who.call_post(
        &format!("/api/v1/requests/{rno}/execution"),
        serde_json::json!({}),
    )
    .await
}

/// cai files a Form 3 for two subjects, the office consents and li accepts it: the request's
/// number and its two registrations.
async fn a_request_accepted_into_two_registrations(
    cai: &Browser,
    yang: &Browser,
    li: &Browser,
) -> (String, Vec<String>) {
    let two = format!("陳阿明,E123456783\n林阿美,{}", nid("B2", 7001));
    let rno = cai
        .request(&Form3 {
            subjects: &two,
            declared_subject_count: "2",
            ..Form3::default()
        })
        .await;
    yang.consent(&rno).await;
    li.post_ok(
        &format!("/requests/{rno}/accept"),
        &[("opinion", "符合老人福利法規定，受理")],
    )
    .await;
    let view = li.api_get(&format!("/api/v1/requests/{rno}")).await;
    let regs: Vec<String> = view["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(regs.len(), 2, "{view}");
    (rno, regs)
}
