//! §9: ids cannot be probed. Someone who may not see a registration, its results and prints,
//! a Form 3 request, an unannounced audit and its documents, a violation case, a Form 1
//! application or a notice gets, for one that exists, exactly the answer one that does not
//! exist gets — same status, same code — on every route that takes an id, page or API, read or
//! write. The refusals are still on the trail, with their real reasons.

use serde_json::{Value, json};

use querywarden_testkit::people::{CAI, CHEN, HUANG, LIN, WU, XU};
use querywarden_testkit::{
    Browser, OneOfEach, answer, assert_refused, form_one_of_lin, one_of_each, with_demo,
};

/// A page form's fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

#[test]
fn a_stranger_gets_the_same_answer_for_every_id_that_exists_and_every_one_that_does_not() {
    // huang: a colleague of lin's unit with no part in anything below; xu: a supervisor of
    // another unit.
    let people = [LIN, CHEN, WU, CAI, HUANG, XU];
    let got = with_demo(people, async |demo, [lin, chen, wu, cai, huang, xu]| {
        let url = demo.url.clone();

        // lin registers, chen approves, lin executes and prints: a registration, a result
        // and a print exist; and one of every other object.
        let objects = one_of_each(&lin, &chen, &wu, &cai).await;
        lin_prints_the_result(&lin, &objects.no).await;
        strangers_get_one_api_answer(&url, &huang, &xu, &objects).await;
        strangers_get_one_page_answer(&huang, &xu, &objects).await;
        the_parties_still_reach_theirs(&lin, &chen, &objects).await;
        demo.trail().await
    });
    every_refusal_is_on_the_trail(&got);
}

/// A route with its ids filled in twice: once with the real ids of `objects`, once with ids
/// no object has.
fn paired(objects: &OneOfEach, path: &str) -> (String, String) {
    let missing_no = "115-999999";
    let missing_rno = "R115-999999";
    let missing = "999999";
    let real = path
        .replace("{no}", &objects.no)
        .replace("{rno}", &objects.rno)
        .replace("{audit}", &objects.audit)
        .replace("{case}", &objects.case)
        .replace("{app}", &objects.app)
        .replace("{round}", &objects.round);
    let none = path
        .replace("{no}", missing_no)
        .replace("{rno}", missing_rno)
        .replace("{audit}", missing)
        .replace("{case}", missing)
        .replace("{app}", missing)
        .replace("{round}", missing);
    (real, none)
}

/// lin prints the result of her registration `no` on the page (the JSON results API is off
/// by default, §6 ¶2): a print exists too.
async fn lin_prints_the_result(lin: &Browser, no: &str) {
    assert_eq!(lin.print(no, "C0101", None).await.status(), 200);
}

/// A JSON API route: its method, its path with the ids to fill in, and a harmless body.
type ApiRoute = (&'static str, &'static str, Value);

/// Every JSON API route that takes an id: reads, then writes with harmless bodies.
fn api_routes(objects: &OneOfEach) -> Vec<ApiRoute> {
    let mut routes = registration_and_request_routes();
    routes.extend(oversight_and_permission_routes(objects));
    routes
}

/// The API routes of registrations, their results and Form 3 requests.
fn registration_and_request_routes() -> Vec<ApiRoute> {
    vec![
        ("GET", "/api/v1/registrations/{no}", Value::Null),
        ("POST", "/api/v1/registrations/{no}/reveal", json!({})),
        (
            "POST",
            "/api/v1/registrations/{no}/decision",
            json!({ "decision": "approve" }),
        ),
        ("POST", "/api/v1/registrations/{no}/cancel", json!({})),
        ("POST", "/api/v1/registrations/{no}/execution", json!({})),
        (
            "GET",
            "/api/v1/registrations/{no}/results/C0101",
            Value::Null,
        ),
        (
            "POST",
            "/api/v1/registrations/{no}/results/C0101/print",
            json!({}),
        ),
        ("GET", "/api/v1/requests/{rno}", Value::Null),
        (
            "POST",
            "/api/v1/requests/{rno}/review",
            json!({ "decision": "reject", "opinion": "不符規定" }),
        ),
        (
            "POST",
            "/api/v1/requests/{rno}/delivery",
            json!({ "delivery": "in_system" }),
        ),
    ]
}

/// The API routes of audits, violation cases, Form 1 applications and recertification rounds.
fn oversight_and_permission_routes(objects: &OneOfEach) -> Vec<ApiRoute> {
    let no = &objects.no;
    vec![
        ("GET", "/api/v1/oversight/audits/{audit}", Value::Null),
        (
            "GET",
            "/api/v1/oversight/audits/{audit}/documents/1",
            Value::Null,
        ),
        (
            "POST",
            "/api/v1/oversight/audits/{audit}/documents/submit",
            json!({}),
        ),
        (
            "POST",
            "/api/v1/oversight/audits/{audit}/opinions",
            json!({ "case": no, "conforms": true, "text": "相符" }),
        ),
        (
            "POST",
            "/api/v1/oversight/audits/{audit}/overall",
            json!({ "violation_found": false, "text": "相符" }),
        ),
        (
            "POST",
            "/api/v1/oversight/audits/{audit}/sign-off",
            json!({ "step": "querier" }),
        ),
        (
            "POST",
            "/api/v1/oversight/audits/{audit}/review",
            json!({ "comment": "" }),
        ),
        ("GET", "/api/v1/oversight/violations/{case}", Value::Null),
        (
            "POST",
            "/api/v1/oversight/violations/{case}/report",
            json!({ "report": "已檢討" }),
        ),
        ("GET", "/api/v1/permissions/applications/{app}", Value::Null),
        (
            "PUT",
            "/api/v1/permissions/applications/{app}",
            form_one_of_lin(),
        ),
        (
            "POST",
            "/api/v1/permissions/applications/{app}/submit",
            json!({}),
        ),
        (
            "POST",
            "/api/v1/permissions/applications/{app}/withdraw",
            json!({}),
        ),
        (
            "POST",
            "/api/v1/permissions/applications/{app}/decision",
            json!({ "decision": "refuse", "comment": "不符" }),
        ),
        (
            "GET",
            "/api/v1/permissions/recertifications/{round}",
            Value::Null,
        ),
        (
            "POST",
            "/api/v1/permissions/recertifications/{round}/decisions",
            json!({ "grant": 1, "decision": "confirmed" }),
        ),
        (
            "POST",
            "/api/v1/permissions/recertifications/{round}/close",
            json!({}),
        ),
    ]
}

/// xu supervises the unit the Form 3 request is addressed to: he signs it (§5 ¶3), so for
/// the request's routes he is a party, not a stranger.
fn is_party(stranger: &Browser, xu: &Browser, path: &str) -> bool {
    stranger.cookie == xu.cookie && path.contains("{rno}")
}

/// On the API, each stranger gets for a real id exactly the answer a missing one gets.
async fn strangers_get_one_api_answer(
    url: &str,
    huang: &Browser,
    xu: &Browser,
    objects: &OneOfEach,
) {
    let api = api_routes(objects);
    for stranger in [huang, xu] {
        for (method, path, body) in &api {
            if is_party(stranger, xu, path) {
                continue;
            }
            let (real, none) = paired(objects, path);
            let send = |p: String| {
                let mut req = stranger
                    .c
                    .request(method.parse().unwrap(), format!("{url}{p}"))
                    .header("cookie", &stranger.cookie)
                    .header("x-csrf-token", &stranger.csrf);
                if !body.is_null() {
                    req = req.json(body);
                }
                req.send()
            };
            let a = answer(send(real).await.unwrap()).await;
            let b = answer(send(none).await.unwrap()).await;
            assert_eq!(a, b, "{method} {path}: exists {a:?}, missing {b:?}");
            // A round is a supervisor's desk: one who holds none is refused the desk
            // before any id is looked at.
            let expected = if path.contains("{round}") && stranger.cookie == huang.cookie {
                403
            } else {
                404
            };
            assert_eq!(a.0, expected, "{method} {path}: {a:?}");
        }
    }
}

/// On the pages (reads and form posts, each with its form's fields), each stranger gets
/// 404 for a real id as for a missing one.
async fn strangers_get_one_page_answer(huang: &Browser, xu: &Browser, objects: &OneOfEach) {
    let pages: Vec<(&str, &str, Fields)> = vec![
        ("GET", "/registrations/{no}", &[]),
        ("POST", "/registrations/{no}/reveal", &[]),
        (
            "POST",
            "/registrations/{no}/approve",
            &[("comment", "同意")],
        ),
        ("POST", "/registrations/{no}/cancel", &[]),
        ("POST", "/registrations/{no}/execute", &[]),
        ("GET", "/registrations/{no}/results/C0101", &[]),
        ("POST", "/registrations/{no}/results/C0101/print", &[]),
        ("GET", "/requests/{rno}", &[]),
        ("POST", "/requests/{rno}/reject", &[("opinion", "不符規定")]),
        (
            "POST",
            "/requests/{rno}/deliver",
            &[("delivery", "in_system"), ("document_no", "")],
        ),
        ("GET", "/oversight/audits/{audit}", &[]),
        ("GET", "/oversight/audits/{audit}/documents/1", &[]),
        ("POST", "/oversight/audits/{audit}/documents/submit", &[]),
        (
            "POST",
            "/oversight/audits/{audit}/sign-off",
            &[("step", "querier")],
        ),
        (
            "POST",
            "/oversight/audits/{audit}/review",
            &[("comment", "")],
        ),
        ("GET", "/oversight/violations/{case}", &[]),
        (
            "POST",
            "/oversight/violations/{case}/report",
            &[("report", "已檢討")],
        ),
        ("GET", "/permissions/applications/{app}", &[]),
        ("POST", "/permissions/applications/{app}/submit", &[]),
        ("POST", "/permissions/applications/{app}/withdraw", &[]),
    ];
    for stranger in [huang, xu] {
        for (method, path, fields) in &pages {
            if is_party(stranger, xu, path) {
                continue;
            }
            let (real, none) = paired(objects, path);
            let (a, b) = if *method == "GET" {
                (stranger.get(&real).await, stranger.get(&none).await)
            } else {
                (
                    stranger.post(&real, fields, true).await,
                    stranger.post(&none, fields, true).await,
                )
            };
            let (a, b) = (a.status().as_u16(), b.status().as_u16());
            assert_eq!(a, b, "{method} {path}: exists {a}, missing {b}");
            assert_eq!(a, 404, "{method} {path}");
        }
    }
}

/// The parties still reach what is theirs; chen, who knows the number, is plainly refused
/// lin's result.
async fn the_parties_still_reach_theirs(lin: &Browser, chen: &Browser, objects: &OneOfEach) {
    let OneOfEach {
        no, audit, case, ..
    } = objects;
    assert_eq!(lin.get(&format!("/registrations/{no}")).await.status(), 200);
    assert_eq!(
        lin.get(&format!("/api/v1/oversight/violations/{case}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        lin.get(&format!("/api/v1/oversight/audits/{audit}"))
            .await
            .status(),
        200
    );
    // chen sees the registration he approved but not lin's result: a plain refusal,
    // since he knows the number.
    let (s, code) = answer(
        chen.get(&format!("/api/v1/registrations/{no}/results/C0101"))
            .await,
    )
    .await;
    assert_eq!((s, code.as_str()), (403, "registration.not_allowed"));
}

/// Every refusal is on the trail, the hidden ones with their real reason.
fn every_refusal_is_on_the_trail(got: &[(String, String)]) {
    assert_refused(
        got,
        &[
            ("query.registration.approved", "registration.not_found"),
            ("query.registration.cancelled", "registration.not_allowed"),
            ("query.registration.cancelled", "registration.not_found"),
            ("query.execution.refused", "registration.not_found"),
            ("result.viewed", "registration.not_allowed"),
            ("result.viewed", "registration.not_found"),
            ("result.printed", "registration.not_allowed"),
            ("query.request.rejected", "registration.not_allowed"),
            ("query.request.rejected", "registration.not_found"),
            ("result.delivered", "registration.not_allowed"),
            ("oversight.audit.viewed", "audit.not_visible"),
            ("oversight.audit.viewed", "audit.not_found"),
            ("oversight.audit.signed_off", "audit.not_visible"),
            ("oversight.violation.viewed", "violation.not_visible"),
            ("oversight.violation.viewed", "violation.not_found"),
            (
                "oversight.corrective_report.submitted",
                "violation.not_the_person",
            ),
            (
                "permission.application.submitted",
                "permission.not_applicant",
            ),
            ("permission.application.submitted", "permission.not_found"),
            (
                "permission.recertification.closed",
                "recertification.not_owner",
            ),
            ("permission.recertification.closed", "permission.not_found"),
        ],
    );
}
