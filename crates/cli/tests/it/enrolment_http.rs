//! The demo card signer on the enrolment page over HTTP (§3): a person being reset has no
//! password to give it, so it signs for the holder of the account's own enrolment code — and
//! refuses a wrong, someone else's or spent code.

use querywarden_testkit::browser::{client, login, nonce};
use querywarden_testkit::people::WU;
use querywarden_testkit::{assert_page, with_demo};

const NEW_PASSWORD: &str = "only-she-knows-this-115";

/// The demo signer asked with an enrolment code: (status, body).
async fn sign_with_code(
    url: &str,
    account: &str,
    nonce: &str,
    code: &str,
) -> (u16, serde_json::Value) {
    let r = client()
        .post(format!("{url}/demo/card/sign"))
        .json(&serde_json::json!({ "account": account, "nonce": nonce, "enrolment_code": code }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The outcomes of the refused sign-ins (the demo signer audits as a sign-in) on record.
async fn login_refusals(data: &std::path::Path) -> Vec<String> {
    querywarden_testkit::trail::outcomes(&data.join("querywarden.sqlite"))
        .await
        .into_iter()
        .filter(|(action, _)| action == "auth.login.failed")
        .map(|(_, outcome)| outcome)
        .collect()
}

#[test]
fn the_demo_signer_takes_the_accounts_own_enrolment_code_once_and_refuses_a_wrong_or_spent_one() {
    with_demo([WU], async |demo, [admin]| {
        let url = demo.url.clone();
        let issue = |account: &'static str| {
            let admin = &admin;
            async move {
                let r = admin
                    .api_post(
                        "/api/v1/enrolment/codes",
                        serde_json::json!({
                            "account": account, "purpose": "reset", "reason": "遺失密碼"
                        }),
                    )
                    .await;
                assert_eq!(r.status(), 201);
                let v: serde_json::Value = r.json().await.unwrap();
                v["code"].as_str().unwrap().to_string()
            }
        };
        let lin_code = issue("lin.meiling").await;
        let chen_code = issue("chen.jianhong").await;

        // Without a password and without a code: the old refusal.
        let (_, n) = nonce(&url).await;
        let (s, body) = sign_with_code(&url, "lin.meiling", &n, "").await;
        assert_eq!(s, 401, "{body}");
        assert_eq!(body["error"]["code"], "login.wrong_password");
        // A made-up code, and a colleague's real one: refused as unknown (nothing told).
        let (s, body) = sign_with_code(&url, "lin.meiling", &n, "ABCD-EFGH-JKMN-PQRS").await;
        assert_eq!(s, 401, "{body}");
        assert_eq!(body["error"]["code"], "enrolment.unknown_code");
        let (s, body) = sign_with_code(&url, "lin.meiling", &n, &chen_code).await;
        assert_eq!(s, 401, "{body}");
        assert_eq!(body["error"]["code"], "enrolment.unknown_code");
        assert!(body.get("signature").is_none());

        // Her own code: the card signs, and /enrol takes the signature.
        let (flow, n) = nonce(&url).await;
        let (s, signed) = sign_with_code(&url, "lin.meiling", &n, &lin_code).await;
        assert_eq!(s, 200, "{signed}");
        let r = client()
            .post(format!("{url}/enrol"))
            .header("cookie", format!("qw_login={flow}"))
            .form(&[
                ("code", lin_code.as_str()),
                ("password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
                ("nonce", &n),
                ("signature", signed["signature"].as_str().unwrap()),
                ("certificate", signed["certificate"].as_str().unwrap()),
                ("format", "PKCS7"),
            ])
            .send()
            .await
            .unwrap();
        assert_page(r, 200, "id=\"enrol-done\"").await;

        // The code is spent: the signer refuses it now.
        let (_, n) = nonce(&url).await;
        let (s, body) = sign_with_code(&url, "lin.meiling", &n, &lin_code).await;
        assert_eq!(s, 401, "{body}");
        assert_eq!(body["error"]["code"], "enrolment.code_used");

        // Every refusal is in the audit trail, with its rule code.
        let outcomes = login_refusals(demo.data()).await;
        for code in [
            "refused:enrolment.unknown_code",
            "refused:enrolment.code_used",
        ] {
            assert!(outcomes.iter().any(|o| o == code), "{code} in {outcomes:?}");
        }

        // The old password no longer signs in; the new one does, with the card.
        let old = login(&url, "lin.meiling", "demo-password-115", "").await;
        assert_eq!(old.status(), 401);
        let fresh = login(&url, "lin.meiling", NEW_PASSWORD, "").await;
        assert_eq!(fresh.status(), 303);
    });
}
