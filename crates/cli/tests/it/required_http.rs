//! Every field a page marks 必填 is required, and refused empty with its own code: each
//! sentence of the zh-TW catalogue that says 必填 labels one field of one form; the table
//! below submits each such form with that field empty, through the page, and expects the
//! refusal that names the field. A new 必填 label without a case here fails the test.

use querywarden_testkit::people::{CAI, CHEN, LI, LIN, WU, YANG};
use querywarden_testkit::{Browser, Form2, Form3, with_demo};

/// The catalogue keys whose zh-TW sentence marks a field 必填.
fn marked_required() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/locales/zh-TW");
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(" = ")
                && !k.starts_with('#')
                && v.contains("必填")
            {
                keys.push(k.trim().to_string());
            }
        }
    }
    keys.sort();
    keys
}

/// The status of a page answer and the refusal code it carries for machines (`data-code`).
async fn refused(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let page = r.text().await.unwrap();
    let code = page
        .split("data-code=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string();
    (status, code)
}

/// lin.meiling's Form 1 (an item change), submitted; its page's path.
async fn submitted_form_one(lin: &Browser) -> String {
    let fields = [
        ("kind", "change_items"),
        ("reason", "辦理低收入戶資格審查"),
        ("national_id", "A100131234"),
        ("phone", "07-7344800"),
        ("email", "someone@example.org"),
        ("egov_account", "egov-user"),
        ("read_pdpa", "yes"),
        ("has_card", "yes"),
        ("items", "C0101"),
    ];
    let (s, location, _) = lin.submit("/permissions/apply", &fields).await;
    assert_eq!(s, 303);
    let view = location.split('?').next().unwrap().to_string();
    let (s, _, _) = lin.submit(&format!("{view}/submit"), &[]).await;
    assert_eq!(s, 303);
    view
}

/// One form's field left empty: (its catalogue key, the answer got, the answer wanted).
type Case = (String, (u16, String), (u16, &'static str));

/// Records one case: the field's catalogue key, the answer got, the answer wanted.
type Check<'a> = dyn FnMut(&str, (u16, String), (u16, &'static str)) + 'a;

#[test]
fn every_field_marked_required_is_refused_empty_with_the_code_of_that_field() {
    let people = [LIN, CHEN, WU, CAI, YANG, LI];
    with_demo(people, async |_, [lin, chen, wu, cai, yang, li]| {
        let mut checked: Vec<Case> = Vec::new();
        let mut check = |key: &str, got: (u16, String), want: (u16, &'static str)| {
            checked.push((key.to_string(), got, want));
        };

        // 代理人（必填）: the deputy page.
        let r = chen
            .post(
                "/units/social-assistance/deputy",
                &[("deputy", ""), ("from", ""), ("until", "")],
                true,
            )
            .await;
        check("deputy-person", refused(r).await, (422, "acting.deputy"));

        the_registration_fields(&lin, &chen, &mut check).await;
        the_request_and_permission_fields(&lin, &chen, &wu, &cai, &yang, &li, &mut check).await;

        let mut keys: Vec<String> = checked.iter().map(|c| c.0.clone()).collect();
        keys.sort();
        assert_eq!(
            keys,
            marked_required(),
            "a 必填 field without its case here"
        );
        let wrong: Vec<String> = checked
            .iter()
            .filter(|(_, got, want)| (got.0, got.1.as_str()) != *want)
            .map(|(k, got, want)| format!("{k}: got {got:?}, want {want:?}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    });
}

/// The registration pages: Form 2 without a case number, the supervisor's return (one and in
/// bulk) and a print beyond the limit, each with its reason left empty.
async fn the_registration_fields(lin: &Browser, chen: &Browser, check: &mut Check<'_>) {
    // 無案號理由（未填案號時必填）: Form 2 without a case number.
    let no_case = Form2 {
        case_no: "",
        ..Form2::default()
    };
    let mut fields = no_case.fields();
    fields.push(("no_case_reason", ""));
    let r = lin.post("/registrations", &fields, true).await;
    check(
        "reg-no-case-reason",
        refused(r).await,
        (422, "registration.case_no.reason_required"),
    );

    // 退回理由（必填）: the supervisor returns a registration.
    let no = lin
        .register(&Form2 {
            subject_id: "A123456789",
            relevance: "申請人之配偶為家庭成員，須查核其就業收入以核算家庭總收入",
            ..Form2::default()
        })
        .await;
    let r = chen
        .post(
            &format!("/registrations/{no}/reject"),
            &[("comment", "")],
            true,
        )
        .await;
    check(
        "reg-reject-comment",
        refused(r).await,
        (422, "approval.comment_required"),
    );

    // 退回時必填 on the approval queue: the same registration, rejected in bulk without a
    // reason, is refused whole with the same code.
    let r = chen
        .post(
            "/registrations/decisions",
            &[
                ("registrations", no.as_str()),
                ("decision", "reject"),
                ("comment", ""),
            ],
            true,
        )
        .await;
    check(
        "bulk-comment-note",
        refused(r).await,
        (422, "approval.comment_required"),
    );

    // 再印理由（超過列印份數上限時必填）: the copy beyond the limit (one).
    let form = Form2 {
        subject_id: "E123456783",
        relevance: "申請人之子為家庭成員，須查核其投保薪資以核算家庭總收入",
        items: vec!["C0101"],
        ..Form2::default()
    };
    let no = querywarden_testkit::executed(lin, chen, &form).await;
    let r = lin.print(&no, "C0101", Some("")).await;
    assert_eq!(r.status(), 200, "the first copy needs no reason");
    let r = lin.print(&no, "C0101", Some("")).await;
    check(
        "result-print-reason",
        refused(r).await,
        (409, "result.print_limit"),
    );
}

/// A Form 3 refused by the responsible unit, a Form 1 refused or approved without its date,
/// and a reset enrolment code, each with its reason left empty.
async fn the_request_and_permission_fields(
    lin: &Browser,
    chen: &Browser,
    wu: &Browser,
    cai: &Browser,
    yang: &Browser,
    li: &Browser,
    check: &mut Check<'_>,
) {
    // 不受理意見（必填）: the responsible unit refuses a Form 3 request.
    let rno = cai.request(&Form3::default()).await;
    yang.consent(&rno).await;
    let r = li
        .post(&format!("/requests/{rno}/reject"), &[("opinion", "")], true)
        .await;
    check(
        "req-reject-opinion",
        refused(r).await,
        (422, "approval.comment_required"),
    );

    // 意見（不同意時為理由……必填）: the supervisor refuses a Form 1 without a reason.
    let view = submitted_form_one(lin).await;
    let r = chen
        .post(
            &format!("{view}/decide"),
            &[("decision", "refuse"), ("comment", "")],
            true,
        )
        .await;
    check(
        "perm-comment-label",
        refused(r).await,
        (422, "permission.reason_required"),
    );

    // 核准時必填 (the effective date): the administrator approves without one.
    chen.post_ok(
        &format!("{view}/decide"),
        &[("decision", "approve"), ("comment", "同意")],
    )
    .await;
    let r = wu
        .post(
            &format!("{view}/decide"),
            &[
                ("decision", "approve"),
                ("effective_from", ""),
                ("comment", ""),
            ],
            true,
        )
        .await;
    check(
        "perm-effective-note",
        refused(r).await,
        (422, "permission.effective_date_required"),
    );

    // 原因（重設時必填）: a reset enrolment code without a reason.
    let r = wu
        .post(
            "/admin/enrolment/codes",
            &[
                ("account", "lin.meiling"),
                ("purpose", "reset"),
                ("reason", ""),
            ],
            true,
        )
        .await;
    check(
        "enrol-reason",
        refused(r).await,
        (422, "enrolment.reason_required"),
    );
}
