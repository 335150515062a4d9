//! Unannounced audits over HTTP against the real binary (§8, Form 4): the IT group opens an
//! audit of lin.meiling's queries, she is told only then, attaches a document (refused when of
//! the wrong type, too large or with a path in its name), the auditor records the opinions,
//! the four sign-offs go in order (out of order refused), the director finds it waiting and
//! reviews it, and it is read-only afterwards — through the pages and the JSON API.

use serde_json::{Value, json};

use querywarden_testkit::people::{CHEN, HUANG, LIN, WU, ZHANG, ZHOU};
use querywarden_testkit::{
    Browser, Form2, assert_page, audit_of_lin, code_of as code, executed, location, roc, with_demo,
};

const PDF: &[u8] = b"%PDF-1.7\n%audit evidence for the case file\n%%EOF";

async fn sign(b: &Browser, id: &str, step: &str) -> reqwest::Response {
    b.api_post(
        &format!("/api/v1/oversight/audits/{id}/sign-off"),
        json!({ "step": step }),
    )
    .await
}

#[test]
fn an_audit_from_opening_to_the_directors_review_over_the_pages_and_the_api() {
    let people = [LIN, CHEN, WU, ZHANG, ZHOU, HUANG];
    with_demo(people, async |_, [lin, chen, wu, zhang, zhou, huang]| {
        // lin queries once today (registered, approved by chen, executed).
        let no = executed(&lin, &chen, &Form2::default()).await;

        let id = the_office_opens_an_audit_and_lin_is_told_only_then(&wu, &lin, &no).await;
        attachments_are_checked_and_read_back_as_sent(&lin, &wu, &huang, &id, &no).await;
        the_opinions_and_the_four_sign_offs(&lin, &wu, &chen, &zhang, &huang, &id, &no).await;
        the_director_reviews_what_waits_for_him(&zhou, &huang, &id).await;

        // Read-only now; and a colleague who is no party never sees it.
        assert_eq!(
            code(sign(&lin, &id, "querier").await).await,
            (409, "audit.read_only".into())
        );
        assert_eq!(
            huang.get(&format!("/oversight/audits/{id}")).await.status(),
            404
        );
        let r = huang.get(&format!("/api/v1/oversight/audits/{id}")).await;
        assert_eq!(code(r).await, (404, "audit.not_found".into()));
        let list = huang.api_get("/api/v1/oversight/audits").await;
        assert_eq!(list, json!([]));

        // Every route is documented.
        let doc: Value = wu.api_get("/api/openapi.json").await;
        assert!(doc["paths"]["/api/v1/oversight/audits/{id}/sign-off"]["post"].is_object());
    });
}

/// §8: the form is the audit offices'; a bad field is refused with its code and nothing
/// opened; once opened, lin is told (not before). Returns the audit's id.
async fn the_office_opens_an_audit_and_lin_is_told_only_then(
    wu: &Browser,
    lin: &Browser,
    no: &str,
) -> String {
    // The form is the audit offices'; the querier is refused it.
    assert_eq!(wu.get("/oversight/audits/new").await.status(), 200);
    assert_eq!(lin.get("/oversight/audits/new").await.status(), 403);
    let inbox = lin.page("/oversight").await;
    assert!(
        !inbox.contains("您已被列為不定期稽核的受稽核者"),
        "not told before it opens"
    );

    // A bad field is refused on the page with its code; nothing opened.
    let mut fields = audit_of_lin();
    fields[7].1 = roc(-1);
    let as_refs = |f: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { f.clone() };
    let send = |f: Vec<(&'static str, String)>| async move {
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        wu.post("/oversight/audits", &refs, true).await
    };
    let r = send(as_refs(&fields)).await;
    assert_page(r, 422, "audit.deadline").await;
    assert_eq!(wu.api_get("/api/v1/oversight/audits").await, json!([]));

    // Opened: lin is told now.
    fields[7].1 = roc(10);
    let r = send(fields).await;
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    let id = loc
        .strip_prefix("/oversight/audits/")
        .and_then(|s| s.split('?').next())
        .unwrap()
        .to_string();
    let page = wu.page(&loc).await;
    assert!(page.contains("data-state=\"documents\""), "{page}");
    assert!(page.contains(&format!("data-case=\"{no}\"")));
    let inbox = lin.page("/oversight").await;
    assert!(
        inbox.contains("您已被列為不定期稽核的受稽核者"),
        "told when it opens"
    );
    let a = lin.api_get(&format!("/api/v1/oversight/audits/{id}")).await;
    assert_eq!(a["querier"], "lin.meiling");
    assert_eq!(a["cases"][0]["case"], no);
    assert!(a["seed"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(a["draw_repeats"], true);
    id
}

/// Attachments refused: wrong type (page), a path in the name and too large (API), not by
/// the auditor; then attached (page) and read back by the auditor (API) as it was sent.
async fn attachments_are_checked_and_read_back_as_sent(
    lin: &Browser,
    wu: &Browser,
    huang: &Browser,
    id: &str,
    no: &str,
) {
    let docs = format!("/oversight/audits/{id}/documents");
    let api_docs = format!("/api/v1/oversight/audits/{id}/documents");
    let r = lin
        .upload(
            &docs,
            &[("case", no)],
            "a.pdf",
            b"plain text".to_vec(),
            false,
        )
        .await;
    assert_page(r, 415, "audit.attachment.type").await;
    let r = lin
        .upload(
            &api_docs,
            &[("case", no)],
            "../../etc/a.pdf",
            PDF.to_vec(),
            true,
        )
        .await;
    assert_eq!(code(r).await, (422, "audit.attachment.path".into()));
    let big = [PDF, &vec![b' '; 10 * 1024 * 1024]].concat();
    let r = lin
        .upload(&api_docs, &[("case", no)], "big.pdf", big, true)
        .await;
    assert_eq!(code(r).await, (413, "audit.attachment.too_large".into()));
    let r = wu
        .upload(&api_docs, &[("case", no)], "a.pdf", PDF.to_vec(), true)
        .await;
    assert_eq!(code(r).await, (403, "audit.not_querier".into()));
    assert_eq!(
        wu.api_get(&format!("/api/v1/oversight/audits/{id}")).await["documents"],
        json!([])
    );

    // Attached (page), then read back by the auditor (API) as it was sent.
    let r = lin
        .upload(&docs, &[("case", no)], "公文.pdf", PDF.to_vec(), false)
        .await;
    assert_eq!(r.status(), 303);
    let a = wu.api_get(&format!("/api/v1/oversight/audits/{id}")).await;
    assert_eq!(a["documents"][0]["file_name"], "公文.pdf");
    let doc = a["documents"][0]["id"].as_i64().unwrap();
    let r = wu
        .get(&format!("/api/v1/oversight/audits/{id}/documents/{doc}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(
        huang
            .get(&format!("/api/v1/oversight/audits/{id}/documents/{doc}"))
            .await
            .status(),
        404
    );
}

/// Documents submitted; opinions; the overall opinion on the page. Sign-offs (Form 4): out of
/// order refused, then in the form's order.
async fn the_opinions_and_the_four_sign_offs(
    lin: &Browser,
    wu: &Browser,
    chen: &Browser,
    zhang: &Browser,
    huang: &Browser,
    id: &str,
    no: &str,
) {
    let r = lin
        .api_post(
            &format!("/api/v1/oversight/audits/{id}/documents/submit"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = wu
        .api_post(
            &format!("/api/v1/oversight/audits/{id}/opinions"),
            json!({ "case": no, "conforms": true, "text": "核准在查調之前，用途相符" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    wu.post_ok(
        &format!("/oversight/audits/{id}/overall"),
        &[("text", "抽查案件符合規定")],
    )
    .await;

    // Sign-offs: out of order refused, then in Form 4's order.
    assert_eq!(
        code(sign(wu, id, "auditor").await).await,
        (409, "audit.sign_off.out_of_order".into())
    );
    assert_eq!(
        code(sign(wu, id, "querier").await).await,
        (403, "audit.sign_off.not_signer".into())
    );
    // Someone who may not even read the audit cannot learn that it exists.
    assert_eq!(
        code(sign(huang, id, "querier").await).await,
        (404, "audit.not_found".into())
    );
    lin.post_ok(
        &format!("/oversight/audits/{id}/sign-off"),
        &[("step", "querier")],
    )
    .await;
    for (b, step) in [
        (wu, "auditor"),
        (chen, "querier_supervisor"),
        (zhang, "auditing_supervisor"),
    ] {
        assert_eq!(sign(b, id, step).await.status(), 200, "{step}");
    }
}

/// The director has something to do: the audit waits for his review. His dashboard counts
/// it, linking to the queue; the JSON says the same. Reviewed, it leaves the queue.
async fn the_director_reviews_what_waits_for_him(zhou: &Browser, huang: &Browser, id: &str) {
    let page = zhou.page("/oversight").await;
    assert!(
        page.contains(
            "<a href=\"/oversight/audits#review-queue\" id=\"ov-audits-awaiting-review\">1</a>"
        ),
        "{page}"
    );
    let d = zhou.api_get("/api/v1/oversight/dashboard").await;
    assert_eq!(d["audits_awaiting_review"], 1);
    let page = zhou.page("/oversight/audits").await;
    assert!(page.contains("id=\"review-queue\""), "{page}");
    assert!(page.contains(&format!("data-audit=\"{id}\"")));
    let q = zhou.api_get("/api/v1/oversight/audits/review-queue").await;
    assert_eq!(q[0]["id"].to_string(), id);
    let r = huang.get("/api/v1/oversight/audits/review-queue").await;
    assert_eq!(code(r).await, (403, "audit.not_director".into()));
    zhou.post_ok(
        &format!("/oversight/audits/{id}/review"),
        &[("comment", "准予備查")],
    )
    .await;
    let a = zhou
        .api_get(&format!("/api/v1/oversight/audits/{id}"))
        .await;
    assert_eq!(a["state"], "reviewed");
    assert_eq!(a["review"]["comment"], "准予備查");
    let d = zhou.api_get("/api/v1/oversight/dashboard").await;
    assert_eq!(d["audits_awaiting_review"], 0);
    assert!(
        zhou.api_get("/api/v1/oversight/audits/review-queue")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}
