//! The workflows staff meet around Form 2 over HTTP against the real binary: acting
//! supervisors (§5 ¶1: a deputy registered for a period approves, as 代理, while the supervisor
//! is absent; a supervisor who needs the data is approved for from above, never by their own
//! deputy), the reminder to file Form 1 before a scheduled transfer (§2 ¶2), and "my
//! registrations" (every state, filters, paging, a refusal in the applicant's inbox) — the
//! page and the JSON API answering alike.

use querywarden_domain::roc_date::RocDate;

use querywarden_testkit::binary::{command as bin, stdout};
use querywarden_testkit::people::{CAI, CHEN, HUANG, LI, LIN, WU, XU, YANG};
use querywarden_testkit::{Browser, Demo, assert_page, form2_api_body, roc_date, rt, with_demo};

/// lin.meiling's demo person id (the first demo account); li.guowei is the sixth.
const LIN_ID: i64 = 1;
const LI_ID: i64 = 6;

async fn decide(b: &Browser, no: &str, decision: &str, comment: &str) -> (u16, serde_json::Value) {
    let r = b
        .api_post(
            &format!("/api/v1/registrations/{no}/decision"),
            serde_json::json!({ "decision": decision, "comment": comment }),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn upload_staff(wu: &Browser, csv: &str) -> (u16, String) {
    let r = wu
        .post_csv("/permissions/admin/staff-import", &[], csv)
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

const STAFF_HEADER: &str = "account,national_id,name,unit,title,status,effective_date";

fn to_approve(inbox: &serde_json::Value) -> Vec<String> {
    inbox["to_approve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["no"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_deputy_approves_as_acting_only_while_the_supervisor_is_absent_and_never_for_their_supervisor()
{
    let people = [LIN, CHEN, HUANG, WU];
    with_demo(people, async |demo, [lin, chen, huang, wu]| {
        only_the_supervisor_registers_a_deputy_for_a_real_period(&lin, &chen).await;

        // With the supervisor present, the deputy neither sees nor decides lin's registration:
        // he is answered as for a number that does not exist (§9), the trail keeps the reason.
        let first = lin
            .register_api(form2_api_body(LIN_ID, None, "F131104093"))
            .await;
        // The waiting step names the person (§5 ¶1), not only the role.
        let page = lin.page(&format!("/registrations/{first}")).await;
        assert!(page.contains("等待 單位主管 陳建宏 核章"), "{page}");
        assert!(to_approve(&huang.api_get("/api/v1/registrations/inbox").await).is_empty());
        let (s, j) = decide(&huang, &first, "approve", "").await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (404, Some("registration.not_found"))
        );
        assert_eq!(
            to_approve(&chen.api_get("/api/v1/registrations/inbox").await),
            vec![first.clone()]
        );

        // The supervisor's absence is registered (on leave from today): the deputy approves, as 代理.
        let today = roc_date(0).format_short();
        let (s, page) = upload_staff(
            &wu,
            &format!(
                "{STAFF_HEADER}\nchen.jianhong,,陳建宏,social-assistance,科長,on_leave,{today}\n"
            ),
        )
        .await;
        assert!(s == 200 || s == 303, "{s} {page}");
        assert_eq!(
            to_approve(&huang.api_get("/api/v1/registrations/inbox").await),
            vec![first.clone()]
        );
        let page = lin.page(&format!("/registrations/{first}")).await;
        assert!(page.contains("等待 單位主管 黃雅婷（代理）核章"), "{page}");
        let (s, j) = decide(&huang, &first, "approve", "代理核准").await;
        assert_eq!(s, 200, "{j}");
        let view = lin.api_get(&format!("/api/v1/registrations/{first}")).await;
        assert_eq!(view["state"], "approved");
        assert_eq!(view["acting"].as_array().unwrap().len(), 1, "{view}");
        let page = lin.page(&format!("/registrations/{first}")).await;
        assert!(
            page.contains("黃雅婷（huang.yating）（代理）"),
            "the page says 代理"
        );

        // The deputy refuses another through the page; the refusal reaches lin's inbox.
        let second = lin
            .register_api(form2_api_body(LIN_ID, None, "A123456789"))
            .await;
        huang
            .post_ok(
                &format!("/registrations/{second}/reject"),
                &[("comment", "關聯性說明不足")],
            )
            .await;
        let inbox = lin.api_get("/api/v1/registrations/inbox").await;
        let refusals: Vec<&str> = inbox["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["object"].as_str().unwrap())
            .collect();
        assert_eq!(refusals, vec![format!("registration:{second}")]);
        let page = lin.page("/registrations").await;
        assert!(page.contains("id=\"refusals\"") && page.contains(&second));

        // xu (elderly welfare's supervisor) needs data li queries: never xu, never li; the
        // unit has no parent, so the director approves.
        let [xu, li, zhou] = demo
            .sign_in_all(["xu.wenjie", "li.guowei", "zhou.wenhua"])
            .await;
        let mut b = form2_api_body(LI_ID, Some(7), "B120000008");
        b["legal_basis"] = "senior-citizens-welfare-12-1-2".into();
        let own = xu.register_api(b).await;
        let (s, j) = decide(&xu, &own, "approve", "").await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (403, Some("approval.separation_of_duties"))
        );
        assert!(!to_approve(&xu.api_get("/api/v1/registrations/inbox").await).contains(&own));
        assert!(!to_approve(&li.api_get("/api/v1/registrations/inbox").await).contains(&own));
        assert!(to_approve(&zhou.api_get("/api/v1/registrations/inbox").await).contains(&own));
        let (s, j) = decide(&zhou, &own, "approve", "").await;
        assert_eq!(s, 200, "{j}");
    });
}

/// §5 ¶1: only the unit's supervisor (or the administrator) registers a deputy, for a real
/// period and not themself; chen registers huang from today for a week.
async fn only_the_supervisor_registers_a_deputy_for_a_real_period(lin: &Browser, chen: &Browser) {
    let deputy = |from: RocDate, until: RocDate| {
        serde_json::json!({
            "deputy": "huang.yating",
            "from": from.format_short(),
            "until": until.format_short(),
        })
    };
    let path = "/api/v1/units/social-assistance/deputy";

    // Only the unit's supervisor (or the administrator) registers a deputy; a real period.
    assert_eq!(
        lin.api_post_code(path, deputy(roc_date(0), roc_date(7)))
            .await,
        (403, "acting.not_allowed".into())
    );
    assert_eq!(
        chen.api_post_code(path, deputy(roc_date(7), roc_date(0)))
            .await,
        (422, "acting.period_reversed".into())
    );
    let r = chen
        .api_post(
            path,
            serde_json::json!({ "deputy": "chen.jianhong", "until": roc_date(7).format_short() }),
        )
        .await;
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"]["code"], "acting.supervisor_themself");
    let r = chen.api_post(path, deputy(roc_date(0), roc_date(7))).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[test]
fn a_scheduled_transfer_asks_the_person_for_their_form_1_once_and_their_supervisor_sees_it() {
    with_demo([WU, HUANG, CHEN], async |_, [wu, huang, chen]| {
        let on = roc_date(10);
        let csv = format!(
            "{STAFF_HEADER}\nhuang.yating,,黃雅婷,elderly-welfare,社工員,active,{}\n",
            on.format_short()
        );
        for _ in 0..2 {
            let (s, page) = upload_staff(&wu, &csv).await;
            assert!(s == 200 || s == 303, "{s} {page}");
        }
        let page = huang.page("/permissions/inbox").await;
        assert_eq!(
            page.matches("class=\"notice\"").count(),
            1,
            "one reminder, even after the second import: {page}"
        );
        assert!(page.contains("請於生效日前提出資料查詢者權限申請表（職務異動）"));
        assert!(page.contains(&on.format_long()), "the day to file before");
        let page = chen.page("/permissions/inbox").await;
        assert_eq!(page.matches("class=\"notice\"").count(), 1, "{page}");
        assert!(page.contains("黃雅婷"), "the supervisor sees whose change");
    });
}

#[test]
fn my_registrations_lists_every_state_newest_first_with_filters_pages_and_one_audit_record_a_page()
{
    let mut demo = Demo::start();
    let data = demo.data().to_path_buf();
    rt().block_on(async {
        let [lin, chen] = demo.sign_in_all(["lin.meiling", "chen.jianhong"]).await;
        let ids = ["F131104093", "A123456789", "B120000008"];
        let mut nos = Vec::new();
        for id in ids {
            nos.push(lin.register_api(form2_api_body(LIN_ID, None, id)).await);
        }
        assert_eq!(decide(&chen, &nos[0], "approve", "").await.0, 200);
        assert_eq!(decide(&chen, &nos[1], "reject", "查無關聯").await.0, 200);

        let all = lin.api_get("/api/v1/registrations/mine").await;
        let listed: Vec<(&str, &str)> = all["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["no"].as_str().unwrap(), e["state"].as_str().unwrap()))
            .collect();
        assert_eq!(
            listed,
            vec![
                (nos[2].as_str(), "pending"),
                (nos[1].as_str(), "refused"),
                (nos[0].as_str(), "approved"),
            ],
            "newest first, each in its state"
        );
        assert_eq!(all["total"], 3);
        let refused = lin
            .api_get("/api/v1/registrations/mine?state=refused")
            .await;
        assert_eq!(refused["total"], 1);
        assert_eq!(refused["entries"][0]["reason"], "查無關聯");
        let tomorrow = roc_date(1).format_short();
        let none = lin
            .api_get(&format!("/api/v1/registrations/mine?from={tomorrow}"))
            .await;
        assert_eq!(none["total"], 0);
        let past = lin.api_get("/api/v1/registrations/mine?page=2").await;
        assert_eq!(past["entries"].as_array().unwrap().len(), 0);
        assert_eq!(past["pages"], 1);
        // Nobody else's registrations: chen is no party.
        assert_eq!(chen.api_get("/api/v1/registrations/mine").await["total"], 0);

        // The page shows the same list and refuses the same bad filter with the same code.
        let page = lin.page("/registrations/mine").await;
        for no in &nos {
            assert!(page.contains(&format!("data-no=\"{no}\"")), "{page}");
        }
        assert!(page.contains("查無關聯"), "the reason is shown");
        let r = lin.get("/registrations/mine?state=lost").await;
        assert_page(r, 422, "data-code=\"mine.state\"").await;
        let r = lin.get("/api/v1/registrations/mine?state=lost").await;
        assert_eq!(r.status(), 422);
        let j: serde_json::Value = r.json().await.unwrap();
        assert_eq!(j["error"]["code"], "mine.state");
    });
    demo.stop();
    // One audit record per page read (8 reads above, two of them refused).
    let o = bin()
        .args([
            "audit",
            "search",
            "--action",
            "query.registration.listed",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let records = out
        .lines()
        .filter(|l| l.contains("query.registration.listed"))
        .count();
    assert_eq!(records, 8, "{out}");
}

/// Posts `body` to `path` as `b`; answers the status and the error code (if any).
async fn post_code(b: &Browser, path: &str, body: serde_json::Value) -> (u16, String) {
    let r = b.api_post(path, body).await;
    let status = r.status().as_u16();
    let j: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
    (
        status,
        j["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn request_of(b: &Browser, rno: &str) -> serde_json::Value {
    b.api_get(&format!("/api/v1/requests/{rno}")).await
}

fn form3(subjects: &[(&str, &str)]) -> serde_json::Value {
    serde_json::json!({
        "applicant_title": "課員",
        "phone": "07-5511111",
        "responsible_unit": "elderly-welfare",
        "legal_basis": "senior-citizens-welfare-12-1-2",
        "relevance": "中低收入老人生活津貼申請，需確認申請人就業收入",
        "items": ["C0101"],
        "declared_subject_count": subjects.len(),
        "subjects": subjects.iter().map(|(n, id)| serde_json::json!({ "name": n, "national_id": id })).collect::<Vec<_>>(),
    })
}

/// The review's acceptance with this opinion, li to query.
fn accept(opinion: &str) -> serde_json::Value {
    serde_json::json!({ "decision": "accept", "querier": LI_ID, "opinion": opinion })
}

#[test]
fn form_3_needs_the_offices_consent_an_opinion_both_signatures_and_every_subject_done_before_delivery()
 {
    with_demo([CAI, YANG, LI, XU], async |_, [cai, yang, li, xu]| {
        let r = cai
            .api_post(
                "/api/v1/requests",
                form3(&[("陳阿明", "E123456783"), ("王大同", "F131104093")]),
            )
            .await;
        assert_eq!(r.status(), 200);
        let rno = r.json::<serde_json::Value>().await.unwrap()["no"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(request_of(&cai, &rno).await["stage"], "awaiting_consent");
        // The waiting sign-off names the person (§5 ¶3), not only the role.
        let page = cai.page(&format!("/requests/{rno}")).await;
        assert!(page.contains("等待 申請人單位主管 楊淑玲 核章"), "{page}");

        the_office_consents_before_any_review(&cai, &yang, &li, &xu, &rno).await;
        the_review_needs_its_opinion_and_makes_the_registrations(&li, &xu, &rno).await;
        delivery_waits_for_every_subject_and_both_signatures(&li, &cai, &xu, &rno).await;
        // cai lists her request (and, as the one who needs the data, its two rows).
        let mine = cai.api_get("/api/v1/registrations/mine").await;
        let forms: Vec<(&str, &str)> = mine["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["form"] == "request")
            .map(|e| (e["no"].as_str().unwrap(), e["state"].as_str().unwrap()))
            .collect();
        assert_eq!(forms, vec![(rno.as_str(), "executed")]);
        assert_eq!(mine["total"], 3);

        the_office_refuses_another_with_a_reason_for_the_applicant(&cai, &yang).await;

        // The district office's applicant sees only the menus that apply to her.
        let home = cai.page("/registrations/mine").await;
        assert!(home.contains("id=\"nav-requests\"") && home.contains("id=\"nav-mine\""));
        for hidden in ["nav-permissions", "nav-oversight", "nav-audits"] {
            assert!(
                !home.contains(&format!("id=\"{hidden}\"")),
                "{hidden} shown"
            );
        }
        let staff = li.page("/registrations/mine").await;
        assert!(staff.contains("id=\"nav-permissions\""));
    });
}

/// Not reviewed before the office's consent; only the office's supervisor consents (§5 ¶3).
async fn the_office_consents_before_any_review(
    cai: &Browser,
    yang: &Browser,
    li: &Browser,
    xu: &Browser,
    rno: &str,
) {
    let path = |p: &str| format!("/api/v1/requests/{rno}/{p}");
    assert_eq!(
        post_code(li, &path("review"), accept("受理")).await,
        (409, "registration.wrong_state".into())
    );
    let consent = serde_json::json!({ "decision": "consent" });
    assert_eq!(
        post_code(cai, &path("consent"), consent.clone()).await,
        (403, "approval.separation_of_duties".into())
    );
    assert_eq!(
        post_code(xu, &path("consent"), consent.clone()).await,
        (403, "approval.not_supervisor".into())
    );
    assert_eq!(
        post_code(yang, &path("consent"), consent.clone()).await.0,
        200
    );
    assert_eq!(request_of(cai, rno).await["stage"], "submitted");
}

/// The review's opinion is required, accepting as refusing; accepted, the request becomes one
/// registration per subject, which xu approves and li starts executing.
async fn the_review_needs_its_opinion_and_makes_the_registrations(
    li: &Browser,
    xu: &Browser,
    rno: &str,
) {
    let path = |p: &str| format!("/api/v1/requests/{rno}/{p}");
    assert_eq!(
        post_code(li, &path("review"), accept("  ")).await,
        (422, "approval.comment_required".into())
    );
    let r = li
        .api_post(&path("review"), accept("符合老人福利法規定，受理"))
        .await;
    assert_eq!(r.status(), 200);
    let regs: Vec<String> = r.json::<serde_json::Value>().await.unwrap()["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(regs.len(), 2);
    for no in &regs {
        assert_eq!(decide(xu, no, "approve", "").await.0, 200);
    }
    let r = li
        .api_post(
            &format!("/api/v1/registrations/{}/execution", regs[0]),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Delivery waits for the second subject (closed on the page with its reason), then for both
/// signatures (the querier's once, the supervisor's); delivered, the request is closed.
async fn delivery_waits_for_every_subject_and_both_signatures(
    li: &Browser,
    cai: &Browser,
    xu: &Browser,
    rno: &str,
) {
    let path = |p: &str| format!("/api/v1/requests/{rno}/{p}");
    let deliver = serde_json::json!({ "delivery": "in_system" });
    assert_eq!(
        post_code(li, &path("delivery"), deliver.clone()).await,
        (409, "request.subjects_open".into())
    );
    assert_eq!(
        post_code(
            li,
            &path("subjects/2/close"),
            serde_json::json!({ "reason": "無" })
        )
        .await,
        (422, "request.close_reason".into())
    );
    assert_eq!(
        post_code(
            li,
            &path("subjects/1/close"),
            serde_json::json!({ "reason": "已查調完畢" })
        )
        .await,
        (409, "request.subject_not_open".into())
    );
    // The page closes the second subject with its reason.
    li.post_ok(
        &format!("/requests/{rno}/subjects/2/close"),
        &[("reason", "當事人已於他案查調，免查")],
    )
    .await;
    assert_eq!(
        post_code(li, &path("delivery"), deliver.clone()).await,
        (409, "request.signatures_missing".into())
    );
    assert_eq!(
        post_code(li, &path("sign"), serde_json::json!({})).await.0,
        200
    );
    assert_eq!(
        post_code(li, &path("sign"), serde_json::json!({})).await,
        (409, "request.already_signed".into())
    );
    assert_eq!(
        post_code(cai, &path("sign"), serde_json::json!({})).await,
        (403, "registration.not_allowed".into())
    );
    let page = xu.page(&format!("/requests/{rno}")).await;
    assert!(
        page.contains("id=\"req-sign\""),
        "the supervisor is offered the sign-off"
    );
    assert!(page.contains("等待 使用單位主管 許文傑 核章"), "{page}");
    assert!(
        !page.contains("data-signoff=\"querier\""),
        "the querier has signed"
    );
    assert_eq!(
        post_code(xu, &path("sign"), serde_json::json!({})).await.0,
        200
    );
    assert_eq!(
        post_code(li, &path("delivery"), deliver.clone()).await.0,
        200
    );
    let v = request_of(cai, rno).await;
    assert_eq!(v["stage"], "closed");
    assert_eq!(v["sign_offs"].as_array().unwrap().len(), 3);
    assert_eq!(v["closed_subjects"][0]["position"], 2);
    assert_eq!(
        post_code(li, &path("delivery"), deliver).await,
        (409, "registration.wrong_state".into())
    );
}

/// The office's supervisor refuses another request, with a reason that reaches the applicant.
async fn the_office_refuses_another_with_a_reason_for_the_applicant(cai: &Browser, yang: &Browser) {
    let r = cai
        .api_post("/api/v1/requests", form3(&[("陳阿明", "E123456783")]))
        .await;
    let other = r.json::<serde_json::Value>().await.unwrap()["no"]
        .as_str()
        .unwrap()
        .to_string();
    let refuse = serde_json::json!({ "decision": "refuse", "reason": "與本所業務無關" });
    assert_eq!(
        post_code(yang, &format!("/api/v1/requests/{other}/consent"), refuse)
            .await
            .0,
        200
    );
    let inbox = cai.api_get("/api/v1/registrations/inbox").await;
    assert_eq!(inbox["refusals"][0]["object"], format!("request:{other}"));
    let refused = cai
        .api_get("/api/v1/registrations/mine?state=refused")
        .await;
    assert_eq!(refused["entries"][0]["reason"], "與本所業務無關");
}
