//! One rule set for Form 2 (§5): the registration page and the JSON API refuse the same
//! things with the same stable code, because the rules live in the use case, not the handler:
//! who may file Form 2, and the purpose rules of §4 ¶1 (a privacy-law basis beside a welfare
//! law; a stated reason when there is no case number).

use querywarden_testkit::people::LIN;
use querywarden_testkit::{Browser, Demo, Form2, rt, with_demo};

/// lin's demo grants and a catalogue legal basis, filed for lin (person 1) through the API.
fn api_body() -> serde_json::Value {
    Form2::default().api_body(1)
}

/// Posts the same registration through the page and the API; returns (status, page, code).
async fn both(b: &Browser) -> ((u16, String), (u16, String)) {
    let r = b
        .post("/registrations", &Form2::default().fields(), true)
        .await;
    let page = (r.status().as_u16(), r.text().await.unwrap());
    let r = b.api_post("/api/v1/registrations", api_body()).await;
    let status = r.status().as_u16();
    let j: serde_json::Value = r.json().await.unwrap();
    let code = j["error"]["code"].as_str().unwrap_or_default().to_string();
    (page, (status, code))
}

#[test]
fn the_page_and_the_api_refuse_one_who_may_not_file_form_2_with_the_same_code() {
    let demo = Demo::start();
    rt().block_on(async {
        // The director holds no Form 2 role; the district office files Form 3 instead.
        for (account, code) in [
            ("zhou.wenhua", "registration.applicant_role"),
            ("cai.peiling", "registration.external_use_form3"),
        ] {
            let b = demo.sign_in(account).await;
            let ((page_status, page), (api_status, api_code)) = both(&b).await;
            assert_eq!(api_code, code, "{account}: API code");
            assert_eq!(api_status, 403, "{account}: API status");
            assert_eq!(page_status, 403, "{account}: page status");
            assert!(page.contains(code), "{account}: page names the rule {code}");
            assert!(!page.contains("F131104093"), "{account}: ID echoed");
        }
    });
}

/// The querier the form offers first as selected (the signed-in querier's own id).
async fn own_id(b: &Browser) -> i64 {
    let form = b.page("/registrations/new").await;
    let select = &form[form.find("name=\"querier\"").unwrap()..];
    let selected = &select[..select.find(" selected").unwrap()];
    let value = &selected[selected.rfind("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].parse().unwrap()
}

#[test]
fn the_page_and_the_api_refuse_a_privacy_basis_alone_and_a_missing_case_reason_alike() {
    with_demo([LIN], async |_, [lin]| {
        let me = own_id(&lin).await;
        for (change, value, code) in [
            (
                "legal_basis",
                "personal-data-protection-15",
                "registration.legal_basis.privacy_alone",
            ),
            ("case_no", "", "registration.case_no.reason_required"),
        ] {
            let fields: Vec<(&str, &str)> = Form2::default()
                .fields()
                .into_iter()
                .map(|(k, v)| (k, if k == change { value } else { v }))
                .collect();
            let r = lin.post("/registrations", &fields, true).await;
            assert_eq!(r.status(), 422, "page: {code}");
            let page = r.text().await.unwrap();
            assert!(page.contains(code), "page names {code}");
            // The ID typed is kept in its field's value, and shown nowhere else.
            assert!(page.contains("value=\"F131104093\">"), "ID not kept");
            assert_eq!(page.matches("F131104093").count(), 1, "ID echoed");

            let mut body = api_body();
            body["querier"] = me.into();
            body[change] = value.into();
            let r = lin.api_post("/api/v1/registrations", body).await;
            assert_eq!(r.status(), 422, "API: {code}");
            let j: serde_json::Value = r.json().await.unwrap();
            assert_eq!(j["error"]["code"], code);
        }
        // A welfare law beside the privacy basis is accepted through both.
        let mut fields = Form2::default().fields();
        fields.retain(|&(k, _)| k != "legal_basis");
        fields.push(("legal_basis", "personal-data-protection-16"));
        fields.push(("companion_basis", "social-assistance-44-3-1"));
        assert_eq!(
            lin.post("/registrations", &fields, true).await.status(),
            303
        );
        let mut body = api_body();
        body["querier"] = me.into();
        body["legal_basis"] = "personal-data-protection-16".into();
        body["companion_basis"] = "social-assistance-44-3-1".into();
        // A relevance of its own: one copied from the querier's last registration is refused.
        body["relevance"] = "急難救助申請，須查核申請人目前投保狀況以判斷是否失業".into();
        let r = lin.api_post("/api/v1/registrations", body).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    });
}

#[test]
fn the_page_and_the_api_refuse_a_querier_who_is_nobody_with_the_same_code_and_audit_it() {
    let got = with_demo([LIN], async |demo, [lin]| {
        let code = "registration.querier_role";
        // Text that is no person's id, and an id that names nobody: the use case decides
        // both, for the single row and the batch, through the page and the API.
        for querier in ["somebody", "987654"] {
            let fields: Vec<(&str, &str)> = Form2::default()
                .fields()
                .into_iter()
                .map(|(k, v)| (k, if k == "querier" { querier } else { v }))
                .collect();
            let r = lin.post("/registrations", &fields, true).await;
            let status = r.status().as_u16();
            let page = r.text().await.unwrap();
            assert!(page.contains(code), "page, querier {querier}: {page}");
            // What was typed stays in the form; the ID is shown nowhere else.
            assert_eq!(page.matches("F131104093").count(), 1, "ID echoed");

            let mut body = api_body();
            body["querier"] = match querier.parse::<i64>() {
                Ok(n) => n.into(),
                Err(_) => querier.into(),
            };
            let r = lin.api_post("/api/v1/registrations", body.clone()).await;
            assert_eq!(r.status().as_u16(), status, "API status, querier {querier}");
            let j: serde_json::Value = r.json().await.unwrap();
            assert_eq!(j["error"]["code"], code, "API, querier {querier}");

            let shared: Vec<(&str, &str)> = fields
                .iter()
                .copied()
                .filter(|(k, _)| !k.starts_with("subject_"))
                .collect();
            let r = lin
                .post_csv("/registrations/batch", &shared, "王大同,F131104093\n")
                .await;
            assert_eq!(r.status().as_u16(), status, "batch page, querier {querier}");
            assert!(r.text().await.unwrap().contains(code), "batch page");
            body["csv"] = "王大同,F131104093\n".into();
            let r = lin.api_post("/api/v1/registrations/batch", body).await;
            assert_eq!(r.status().as_u16(), status, "batch API, querier {querier}");
            let j: serde_json::Value = r.json().await.unwrap();
            assert_eq!(j["error"]["code"], code, "batch API, querier {querier}");
        }
        demo.trail().await
    });
    // Each of the eight refusals is on the trail with its code, the page's as the API's.
    let refused = got
        .iter()
        .filter(|(a, o)| {
            a == "query.registration.created" && o == "refused:registration.querier_role"
        })
        .count();
    assert_eq!(refused, 8, "{got:?}");
}
