//! The home page per role over HTTP against the real binary: what waits for the signed-in
//! person with its deadline as an ROC date and the working days left, the counts beside the
//! menu entries on every page, the unread notices folded in (and marked read from there), and
//! the signed-out page that explains the system rather than listing anyone.

use querywarden_domain::citizen_report::working_days_left;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_testkit::browser::fetch_text;
use querywarden_testkit::people::{CHEN, HUANG, LIN};
use querywarden_testkit::{Browser, Demo, form2_api_body, rt, with_demo};

/// lin.meiling's demo person id (the first demo account).
const LIN_ID: i64 = 1;

fn body(subject_id: &str) -> serde_json::Value {
    form2_api_body(LIN_ID, None, subject_id)
}

/// The worklist rows of `task` on a home page, as their HTML.
fn rows<'h>(html: &'h str, task: &str) -> Vec<&'h str> {
    let marker = format!("data-task=\"{task}\"");
    html.split("<tr class=\"work\"")
        .skip(1)
        .filter(|r| r.contains(&marker))
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .collect()
}

/// The navigation of a page.
fn nav(html: &str) -> &str {
    let start = html.find("<nav").expect("a navigation");
    let end = html[start..].find("</nav>").expect("its end") + start;
    &html[start..end]
}

async fn decide(b: &Browser, no: &str, decision: &str, comment: &str) {
    let r = b
        .api_post(
            &format!("/api/v1/registrations/{no}/decision"),
            serde_json::json!({ "decision": decision, "comment": comment }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// `supervisor` approves `no`: the approval's last day as `querier` reads it (ROC, Taipei) and
/// the working days left until then on the office calendar.
async fn approved(supervisor: &Browser, querier: &Browser, no: &str) -> (RocDate, i32) {
    decide(supervisor, no, "approve", "").await;
    let view = querier
        .api_get(&format!("/api/v1/registrations/{no}"))
        .await;
    let valid_until: jiff::Timestamp = view["valid_until"].as_str().unwrap().parse().unwrap();
    let due = taipei_date(valid_until);
    let left = working_days_left(
        taipei_date(jiff::Timestamp::now()),
        due,
        &HolidayCalendar::seeded().unwrap(),
    );
    (due, left)
}

#[test]
fn each_person_sees_what_waits_for_them_with_roc_deadlines_and_counts_in_every_menu() {
    with_demo([LIN, CHEN, HUANG], async |_, [lin, chen, huang]| {
        // Nothing waits yet for the supervisor: an empty list, no counts.
        let home = chen.page("/").await;
        assert!(home.contains("id=\"worklist-empty\""), "{home}");
        assert!(!nav(&home).contains("nav-count"));

        // §5: lin registers two queries; they wait for her supervisor, oldest first, with
        // no deadline the rules set, and the count beside the menu entry on every page.
        let first = lin.register_api(body("F131104093")).await;
        let second = lin.register_api(body("A123456789")).await;
        let home = chen.page("/").await;
        let approve = rows(&home, "approve_registration");
        assert_eq!(approve.len(), 2, "{home}");
        assert!(approve[0].contains(&first) && approve[1].contains(&second));
        assert!(approve[0].contains(&format!("href=\"/registrations/{first}\"")));
        assert!(approve[0].contains("民國 ") && approve[0].contains("未定期限"));
        assert!(nav(&home).contains("待核准 2"), "{}", nav(&home));
        let catalogue = chen.page("/catalogue").await;
        assert!(nav(&catalogue).contains("待核准 2"), "counts on every page");
        // …and for nobody else: not the applicant, not a colleague.
        assert!(rows(&lin.page("/").await, "approve_registration").is_empty());
        let colleague = huang.page("/").await;
        assert!(rows(&colleague, "approve_registration").is_empty());
        assert!(!nav(&colleague).contains("待核准"));

        // Approved: the querier runs it before the approval expires; the deadline is the
        // expiry's day (ROC) and the working days left are counted on the office calendar.
        let (due, left) = approved(&chen, &lin, &first).await;
        assert!(left > 0, "an approval is valid for days");
        let home = lin.page("/").await;
        let execute = rows(&home, "execute_registration");
        assert_eq!(execute.len(), 1, "{home}");
        assert!(execute[0].contains(&first));
        assert!(execute[0].contains(&due.format_long()), "{}", execute[0]);
        assert!(
            execute[0].contains(&format!("尚餘 {left} 個工作天")),
            "{}",
            execute[0]
        );
        assert!(nav(&home).contains("待查調 1"), "{}", nav(&home));
        // In English the same date carries its ROC year.
        let en = lin.in_language("en").page("/").await;
        assert!(rows(&en, "execute_registration")[0].contains(&due.format_en()));
        assert!(nav(&en).contains("to run 1"));
        let home = chen.page("/").await;
        assert_eq!(rows(&home, "approve_registration").len(), 1);
        assert!(nav(&home).contains("待核准 1"));

        // A refusal reaches lin as an unread notice on her home page; she marks it read
        // there and it is gone, counts included.
        decide(&chen, &second, "reject", "關聯性說明不足").await;
        let home = lin.page("/").await;
        let notices = home
            .split("id=\"notices\"")
            .nth(1)
            .expect("the notices section");
        assert!(notices.contains("您的查調登記未獲核准") && notices.contains(&second));
        assert!(!notices.contains("A123456789"), "no citizen's ID");
        let id: String = notices
            .split("data-notice=\"")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(nav(&home).contains("待辦 2"), "one item and one notice");
        lin.post_ok(&format!("/home/notices/{id}/read"), &[]).await;
        let home = lin.page("/").await;
        assert!(!home.contains("id=\"notices\""));
        assert!(nav(&home).contains("待辦 1"));
        // Someone else's notice cannot be marked (it reads as one that does not exist).
        let r = chen
            .post(&format!("/home/notices/{id}/read"), &[], true)
            .await;
        assert_eq!(r.status(), 404);
    });
}

#[test]
fn signed_out_the_home_page_explains_the_system_and_the_sign_in_and_lists_nobody() {
    let demo = Demo::start();
    rt().block_on(async {
        let c = querywarden_testkit::browser::client();
        let home = fetch_text(c.get(format!("{}/", demo.url))).await;
        assert!(home.contains("id=\"how-to-sign-in\"") && home.contains("href=\"/login\""));
        assert!(
            home.contains("附表2"),
            "what the system does, in the rules' words"
        );
        assert!(!home.contains("id=\"worklist\""));
        assert!(!home.contains("lin.meiling") && !home.contains("林美玲"));
        assert!(!nav(&home).contains("nav-count"));
        // The demo's own start page has the accounts.
        let start = fetch_text(c.get(format!("{}/demo", demo.url))).await;
        assert!(start.contains("<code>lin.meiling</code>"));
    });
}

#[test]
fn the_json_worklist_lists_what_the_home_page_lists_with_the_same_deadlines_and_no_citizen() {
    with_demo([LIN, CHEN], async |demo, [lin, chen]| {
        // Signed out: refused in the one error envelope.
        let r = querywarden_testkit::browser::client()
            .get(format!("{}/api/v1/me/worklist", demo.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let refusal: serde_json::Value = r.json().await.unwrap();
        assert!(refusal["error"]["code"].is_string(), "{refusal}");

        let empty = chen.api_get("/api/v1/me/worklist").await;
        assert_eq!(empty["items"], serde_json::json!([]), "{empty}");
        assert_eq!(empty["counts"], serde_json::json!({}));

        // §5: the registration waits for the supervisor, by number and link, no deadline.
        let no = lin.register_api(body("F131104093")).await;
        let list = chen.api_get("/api/v1/me/worklist").await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["kind"], "approve_registration");
        assert_eq!(items[0]["object"]["type"], "registration");
        assert_eq!(items[0]["object"]["reference"], no.as_str());
        assert_eq!(items[0]["object"]["href"], format!("/registrations/{no}"));
        assert!(items[0]["due"].is_null() && items[0]["working_days_left"].is_null());
        assert_eq!(list["counts"]["approve_registration"], 1);
        let text = list.to_string();
        assert!(
            !text.contains("F131104093") && !text.contains("王大同"),
            "{text}"
        );
        // The home page lists the same item.
        assert_eq!(rows(&chen.page("/").await, "approve_registration").len(), 1);

        // Approved: the querier's item carries the approval's last day as a civil date and
        // an ROC date, and the working days left on the office calendar.
        let (due, left) = approved(&chen, &lin, &no).await;
        let list = lin.api_get("/api/v1/me/worklist").await;
        let run = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "execute_registration")
            .unwrap_or_else(|| panic!("{list}"));
        assert_eq!(run["object"]["reference"], no.as_str());
        assert_eq!(run["due"]["date"], due.civil().to_string());
        assert_eq!(run["due"]["roc"], due.format_long());
        assert_eq!(run["working_days_left"], left);
        assert_eq!(list["counts"]["execute_registration"], 1);
        assert!(
            chen.api_get("/api/v1/me/worklist").await["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    });
}
