//! Registering a unit supervisor's deputy (代理人, §5 ¶1) over HTTP against the real binary:
//! the page and the JSON API go through one use case, so each refusal comes back from both
//! with the same status and the same code; the page keeps what was typed, and once the
//! deputy is registered it names them with their period in ROC dates.

use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_testkit::people::{CHEN, LIN};
use querywarden_testkit::{Browser, roc_date, with_demo};

/// `days` from today (Asia/Taipei), as typed on the form (`115/03/05`).
fn day(days: i64) -> String {
    roc_date(days).format_short()
}

/// The code a page carries for machines (`data-code` of its error), empty when none.
fn page_code(page: &str) -> String {
    page.split("data-code=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// One refusal: (who, unit, deputy, from, until, status, code).
type Refusal<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, u16, &'a str);

/// Every refusal of the deputy form, `d1` and `d7` being tomorrow and a week from today.
fn the_refusals<'a>(d1: &'a str, d7: &'a str) -> [Refusal<'a>; 9] {
    [
        (
            "lin",
            "social-assistance",
            "huang.yating",
            "",
            "",
            403,
            "acting.not_allowed",
        ),
        (
            "chen",
            "social-assistance",
            "",
            "",
            "",
            422,
            "acting.deputy",
        ),
        (
            "chen",
            "social-assistance",
            "huang.yating",
            "26/03/05",
            "",
            422,
            "acting.from",
        ),
        (
            "chen",
            "social-assistance",
            "huang.yating",
            "",
            "明天",
            422,
            "acting.until",
        ),
        (
            "chen",
            "social-assistance",
            "huang.yating",
            d7,
            d1,
            422,
            "acting.period_reversed",
        ),
        (
            "chen",
            "social-assistance",
            "chen.jianhong",
            "",
            "",
            422,
            "acting.supervisor_themself",
        ),
        (
            "chen",
            "social-assistance",
            "li.guowei",
            "",
            "",
            422,
            "acting.not_in_unit",
        ),
        (
            "chen",
            "social-assistance",
            "nobody.here",
            "",
            "",
            404,
            "acting.not_found",
        ),
        (
            "chen",
            "no-such-unit",
            "huang.yating",
            "",
            "",
            403,
            "acting.not_allowed",
        ),
    ]
}

/// §5 ¶1: the page and the API refuse one case with the same status and code; the page keeps
/// what was typed.
async fn the_page_and_the_api_refuse_alike(b: &Browser, refusal: Refusal<'_>) {
    let (who, unit, deputy, from, until, status, code) = refusal;
    let what = format!("{who} {unit} {deputy:?} {from:?} {until:?}");
    let r = b
        .post(
            &format!("/units/{unit}/deputy"),
            &[("deputy", deputy), ("from", from), ("until", until)],
            true,
        )
        .await;
    let page_status = r.status().as_u16();
    let page = r.text().await.unwrap();
    assert_eq!(
        (page_status, page_code(&page).as_str()),
        (status, code),
        "page: {what}"
    );
    if status == 422 {
        // The form comes back with what was typed.
        assert!(
            page.contains(&format!("id=\"from\" name=\"from\" value=\"{from}\"")),
            "{what}"
        );
        assert!(
            page.contains(&format!("id=\"until\" name=\"until\" value=\"{until}\"")),
            "{what}"
        );
    }
    let r = b
        .api_post(
            &format!("/api/v1/units/{unit}/deputy"),
            serde_json::json!({ "deputy": deputy, "from": from, "until": until }),
        )
        .await;
    let api_status = r.status().as_u16();
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (api_status, j["error"]["code"].as_str().unwrap_or_default()),
        (status, code),
        "API: {what}"
    );
}

#[test]
fn the_deputy_page_and_the_api_refuse_alike_and_the_page_registers_the_deputy() {
    with_demo([CHEN, LIN], async |_, [chen, lin]| {
        let (d1, d7) = (day(1), day(7));
        for refusal in the_refusals(&d1, &d7) {
            let b = if refusal.0 == "lin" { &lin } else { &chen };
            the_page_and_the_api_refuse_alike(b, refusal).await;
        }
        only_the_supervisor_is_offered_the_page(&lin, &chen).await;

        // The page registers the deputy and shows them with the period.
        let (s, location, _) = chen
            .submit(
                "/units/social-assistance/deputy",
                &[("deputy", "huang.yating"), ("from", ""), ("until", &d7)],
            )
            .await;
        assert_eq!(
            (s, location.as_str()),
            (303, "/units/social-assistance/deputy?notice=registered")
        );
        let page = chen.page(&location).await;
        assert!(page.contains("id=\"deputy-notice\""), "{page}");
        let today = taipei_date(jiff::Timestamp::now()).format_long();
        let until = RocDate::parse(&d7).unwrap().format_long();
        assert!(
            page.contains(&format!(
                "<dd id=\"deputy-current\">黃雅婷（huang.yating），代理期間 {today} 至 {until}</dd>"
            )),
            "{page}"
        );
        // In English, the same in English: ASCII brackets, ISO dates with the ROC year.
        let page = chen
            .in_language("en")
            .page("/units/social-assistance/deputy")
            .await;
        assert!(
            page.contains("黃雅婷 (huang.yating), acting from "),
            "{page}"
        );
    });
}

/// Only the unit's supervisor opens the page; the menu offers it to them alone, with no
/// deputy yet and the unit's staff (not the supervisor) to choose from.
async fn only_the_supervisor_is_offered_the_page(lin: &Browser, chen: &Browser) {
    let (s, page) = lin.read("/units/social-assistance/deputy").await;
    assert_eq!((s, page_code(&page).as_str()), (403, "acting.not_allowed"));
    assert!(!page.contains("id=\"nav-deputy\""));
    let page = chen.page("/registrations").await;
    assert!(
        page.contains("href=\"/units/social-assistance/deputy\" id=\"nav-deputy\""),
        "{page}"
    );
    let page = chen.page("/units/social-assistance/deputy").await;
    assert!(page.contains("<dd id=\"deputy-current\">無</dd>"), "{page}");
    assert!(
        page.contains("<option value=\"huang.yating\">黃雅婷（huang.yating）</option>"),
        "{page}"
    );
    assert!(
        !page.contains("value=\"chen.jianhong\""),
        "the supervisor is offered as deputy"
    );
}
