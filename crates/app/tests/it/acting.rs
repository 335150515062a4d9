//! Registering a unit supervisor's deputy (代理人, §5 ¶1) through the one use case the page
//! and the JSON API share: the form as typed is parsed there, every refusal names its field
//! or rule and is on the trail, and the deputy page opens only for the unit's supervisor or
//! the permission administrator.

use crate::common::{person, portal_app, trail_of};
use jiff::{Timestamp, ToSpan};
use querywarden_app::acting::{DeputyForm, DeputyRefusal};
use querywarden_app::permission::Op;
use querywarden_domain::org::Person;
use querywarden_domain::roc_date::taipei_date;

/// `days` from today (Asia/Taipei), as typed on the form.
fn day(days: i64) -> String {
    let now = Timestamp::now() + (days * 24).hours();
    taipei_date(now).format_short()
}

fn form(deputy: &str, from: &str, until: &str) -> DeputyForm {
    DeputyForm {
        deputy: deputy.into(),
        from: from.into(),
        until: until.into(),
    }
}

const REGISTERED: &str = "admin.unit.deputy_registered";

#[tokio::test]
async fn each_refusal_of_a_deputy_names_its_field_or_rule_and_is_on_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let chen = person(&app, "chen.jianhong").await;
    let lin = person(&app, "lin.meiling").await;
    let unit = "social-assistance";
    let cases: Vec<(&str, &Person, &str, DeputyForm, &str)> = vec![
        (
            "not the unit's supervisor",
            &lin,
            unit,
            form("huang.yating", "", ""),
            "acting.not_allowed",
        ),
        (
            "no deputy chosen (必填)",
            &chen,
            unit,
            form("  ", "", ""),
            "acting.deputy",
        ),
        (
            "an account that cannot be one",
            &chen,
            unit,
            form("黃雅婷", "", ""),
            "acting.deputy",
        ),
        (
            "an account nobody has",
            &chen,
            unit,
            form("no.such.person", "", ""),
            "acting.not_found",
        ),
        (
            "a first day that is no date",
            &chen,
            unit,
            form("huang.yating", "next monday", ""),
            "acting.from",
        ),
        (
            "a Western year read as an ROC one (26/03/05 is 1937)",
            &chen,
            unit,
            form("huang.yating", "", "26/03/05"),
            "acting.until",
        ),
        (
            "a period that ends before it starts",
            &chen,
            unit,
            form("huang.yating", &day(7), &day(1)),
            "acting.period_reversed",
        ),
        (
            "the supervisor themself",
            &chen,
            unit,
            form("chen.jianhong", "", &day(7)),
            "acting.supervisor_themself",
        ),
        (
            "someone of another unit",
            &chen,
            unit,
            form("li.guowei", "", &day(7)),
            "acting.not_in_unit",
        ),
        (
            "a unit that does not exist (the supervisor may not register there)",
            &chen,
            "no-such-unit",
            form("huang.yating", "", ""),
            "acting.not_allowed",
        ),
    ];
    for (n, (what, actor, unit, form, code)) in cases.into_iter().enumerate() {
        let op = Op::new(Timestamp::now(), format!("op-{n}"));
        let r = app.register_deputy(actor, unit, &form, &op).await.unwrap();
        let refusal = r.expect_err(what);
        assert_eq!(refusal.code(), code, "{what}");
        assert_eq!(
            trail_of(&app, REGISTERED, &format!("op-{n}")).await,
            [format!("refused:{code}")],
            "{what}"
        );
    }
    // The administrator learns that a unit does not exist; the refusal is on the trail.
    let wu = person(&app, "wu.zhiming").await;
    let op = Op::new(Timestamp::now(), "op-admin");
    let r = app
        .register_deputy(&wu, "no-such-unit", &form("huang.yating", "", ""), &op)
        .await
        .unwrap();
    assert_eq!(r, Err(DeputyRefusal::NotFound));
    assert_eq!(
        trail_of(&app, REGISTERED, "op-admin").await,
        ["refused:acting.not_found"]
    );
    // Nothing was registered by any of them.
    let desk = app
        .deputy_desk(&chen, unit, &Op::new(Timestamp::now(), "op-read"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(desk.deputy, None);
}

#[tokio::test]
async fn the_supervisor_registers_a_deputy_from_today_and_the_page_shows_them_with_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let chen = person(&app, "chen.jianhong").await;
    let huang = person(&app, "huang.yating").await;
    let op = Op::new(Timestamp::now(), "op-register");
    let until = day(14);
    let term = app
        .register_deputy(
            &chen,
            "social-assistance",
            &form(" Huang.Yating ", "", &until),
            &op,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(term.person, huang.id);
    // An empty first day is today.
    assert_eq!(term.from, Some(op.today()));
    assert_eq!(term.until.map(|d| d.format_short()), Some(until));
    assert_eq!(
        trail_of(&app, REGISTERED, "op-register").await,
        ["succeeded"]
    );

    let desk = app
        .deputy_desk(
            &chen,
            "social-assistance",
            &Op::new(Timestamp::now(), "op-r"),
        )
        .await
        .unwrap()
        .unwrap();
    let (who, shown) = desk.deputy.expect("the deputy is shown");
    assert_eq!((who.account.as_str(), shown), ("huang.yating", term));
    assert_eq!(desk.supervisor.map(|s| s.id), Some(chen.id));
    // The supervisor is not offered as their own deputy; their staff are.
    assert!(desk.candidates.iter().all(|c| c.id != chen.id));
    assert!(desk.candidates.iter().any(|c| c.id == huang.id));
    // A supervisor registers only for their own unit.
    assert_eq!(
        desk.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["social-assistance"]
    );
}

#[tokio::test]
async fn the_deputy_page_opens_only_for_the_units_supervisor_or_the_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let unit = "social-assistance";
    for (account, refused) in [
        ("lin.meiling", Some("acting.not_allowed")),
        ("xu.wenjie", Some("acting.not_allowed")),
        ("chen.jianhong", None),
        ("wu.zhiming", None),
    ] {
        let p = person(&app, account).await;
        let request_id = format!("op-{account}");
        let r = app
            .deputy_desk(&p, unit, &Op::new(Timestamp::now(), request_id.clone()))
            .await
            .unwrap();
        match refused {
            Some(code) => {
                assert_eq!(r.map(|_| ()).unwrap_err().code(), code, "{account}");
                assert_eq!(
                    trail_of(&app, "access.refused", &request_id).await,
                    [format!("refused:{code}")],
                    "{account}"
                );
            }
            None => {
                assert_eq!(r.unwrap().unit.id.as_str(), unit, "{account}");
                assert!(
                    trail_of(&app, "access.refused", &request_id)
                        .await
                        .is_empty()
                );
            }
        }
    }
    // The administrator may open every unit's page.
    let wu = person(&app, "wu.zhiming").await;
    let desk = app
        .deputy_desk(&wu, unit, &Op::new(Timestamp::now(), "op-w"))
        .await
        .unwrap()
        .unwrap();
    assert!(desk.units.len() > 3, "{:?}", desk.units);
}
