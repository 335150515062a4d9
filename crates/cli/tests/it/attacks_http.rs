//! The holes two attacks on the running demo found, each replayed against the real binary:
//! numbers that cannot be probed, one error envelope for every refusal, invalid bytes in a
//! form refused rather than replaced, oversize bodies answered 413, and a demo card signer
//! that signs nothing without the account's password.

use querywarden_testkit::browser::client;
use querywarden_testkit::people::{LIN, XU};
use querywarden_testkit::{Browser, Form2, assert_refused, with_demo};

#[test]
fn attacks_on_the_demo_meet_closed_doors_and_the_one_error_envelope() {
    with_demo([LIN, XU], async |demo, [lin, xu]| {
        let url = demo.url.clone();
        let no = lin.register(&Form2::default()).await;

        // A stranger gets the same answer for a number that exists and one that does not,
        // on the page and in the API.
        let exists = xu.get(&format!("/registrations/{no}")).await;
        let missing = xu.get("/registrations/115-999999").await;
        assert_eq!(exists.status(), missing.status());
        assert_eq!(exists.status(), 404);
        let exists = xu.get(&format!("/api/v1/registrations/{no}")).await;
        let missing = xu.get("/api/v1/registrations/115-999999").await;
        assert_eq!(exists.status(), missing.status());
        let (a, b): (serde_json::Value, serde_json::Value) =
            (exists.json().await.unwrap(), missing.json().await.unwrap());
        assert_eq!(a["error"]["code"], b["error"]["code"]);

        an_extractors_rejection_names_no_internal_field(&lin, &no).await;

        // A page form with percent-encoded bytes that are not UTF-8: refused, not stored.
        let before = lin.api_get("/api/v1/registrations/inbox").await.to_string();
        let form = format!(
            "csrf={}&subject_name=%FF%FE&subject_id=F131104093&items=C0101\
             &legal_basis=social-assistance-44-3-1&relevance=x&needer=&querier=",
            lin.csrf
        );
        let r = lin
            .c
            .post(format!("{url}/registrations"))
            .header("cookie", &lin.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let page = r.text().await.unwrap();
        assert!(page.contains("UTF-8"), "{page}");
        assert_eq!(
            lin.api_get("/api/v1/registrations/inbox").await.to_string(),
            before
        );

        // An oversize body: 413 in the JSON error, not 400 "malformed".
        let big = format!("{{\"subject_name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
        let r = lin.api_post_body("/api/v1/registrations", big).await;
        assert_eq!(r.status(), 413);
        let j: serde_json::Value = r.json().await.unwrap();
        assert_eq!(j["error"]["code"], "request.too_large");

        // The demo card signs nothing without the account's password.
        let c = client();
        for body in [
            serde_json::json!({ "account": "lin.meiling", "nonce": "any text at all" }),
            serde_json::json!({ "account": "lin.meiling", "nonce": "x", "password": "guess" }),
        ] {
            let r = c
                .post(format!("{url}/demo/card/sign"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            let j: serde_json::Value = r.json().await.unwrap();
            assert_eq!(j["error"]["code"], "login.wrong_password");
            assert!(j.get("signature").is_none());
        }
    });
}

/// An extractor's rejection answers in the JSON error, naming no internal field.
async fn an_extractors_rejection_names_no_internal_field(lin: &Browser, no: &str) {
    let r = lin
        .api_post(
            &format!("/api/v1/registrations/{no}/decision"),
            serde_json::json!({ "decision": 9_223_372_036_854_775_807_u64 }),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["error"]["code"], "request.malformed", "{body}");
    assert!(j["error"]["operation_id"].is_string());
    assert!(
        !body.contains("invalid type") && !body.contains("expected"),
        "{body}"
    );
    let r = lin
        .api_post_body(
            "/api/v1/registrations",
            r#"{"querier": 9223372036854775808}"#,
        )
        .await;
    assert!(r.status().is_client_error());
    let body = r.text().await.unwrap();
    assert!(body.starts_with("{\"error\""), "{body}");
    assert!(!body.contains("querier: invalid value"), "{body}");
}

#[test]
fn refusals_at_the_edges_are_on_the_trail() {
    let got = with_demo([LIN], async |demo, [lin]| {
        let url = demo.url.clone();
        let no = lin.register(&Form2::default()).await;
        // A form without its CSRF token.
        let r = lin
            .post(&format!("/registrations/{no}/cancel"), &[], false)
            .await;
        assert_eq!(r.status(), 403);
        // Pages of another role.
        assert_eq!(lin.get("/audit").await.status(), 403);
        assert_eq!(lin.get("/admin/usage-log").await.status(), 403);
        assert_eq!(lin.get("/admin/bind-card").await.status(), 403);
        // SCIM: no token, the wrong media type, an invalid user, an oversize body.
        let c = client();
        let scim = |token: Option<&'static str>, media: &'static str, body: String| {
            let mut r = c
                .post(format!("{url}/scim/v2/Users"))
                .header("content-type", media)
                .body(body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        let token = Some(super::permissions_http::SCIM_TOKEN);
        let cases = [
            (None, "application/scim+json", "{}".to_string(), 401),
            (token, "text/plain", "{}".to_string(), 415),
            (
                token,
                "application/scim+json",
                "{\"userName\": 5}".to_string(),
                400,
            ),
            (
                token,
                "application/scim+json",
                "x".repeat(3 * 1024 * 1024),
                413,
            ),
        ];
        for (token, media, body, status) in cases {
            assert_eq!(scim(token, media, body).await.unwrap().status(), status);
        }
        // A request on a locked screen.
        let r = lin
            .api_post("/api/v1/session/lock", serde_json::json!({}))
            .await;
        assert!(r.status().is_success());
        assert_eq!(lin.get("/api/v1/me").await.status(), 423);
        demo.trail().await
    });
    assert_refused(
        &got,
        &[
            ("access.refused", "session.csrf"),
            ("access.refused", "audit.not_reader"),
            ("access.refused", "usage_log.not_administrator"),
            ("access.refused", "permission.not_administrator"),
            ("access.refused", "session.locked"),
            ("admin.staff.status_changed", "scim.unauthorized"),
            ("admin.staff.status_changed", "scim.media_type"),
            ("admin.staff.status_changed", "scim.invalidSyntax"),
            ("admin.staff.status_changed", "scim.too_large"),
        ],
    );
}
