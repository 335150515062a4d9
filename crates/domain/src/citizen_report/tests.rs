use super::*;
use jiff::civil::date;

fn cal() -> HolidayCalendar {
    HolidayCalendar::seeded().unwrap()
}

fn roc(y: i16, m: i8, d: i8) -> RocDate {
    RocDate::from_civil(date(y, m, d)).unwrap()
}

#[test]
fn the_fifteen_day_deadline_moves_past_weekends_and_holidays() {
    let c = cal();
    // (received, due): the day received is not counted (行政程序法 §48 II); a last day off
    // moves to the next working day (§48 IV).
    let table = [
        // Tuesday 3/3 + 15 = Wednesday 3/18, a working day.
        (roc(2026, 3, 3), roc(2026, 3, 18)),
        // Sunday 2/1 + 15 = Monday 2/16 (除夕), inside 春節 2/14–2/22 → Monday 2/23.
        (roc(2026, 2, 1), roc(2026, 2, 23)),
        // Thursday 9/10 + 15 = Friday 9/25 (中秋節); Sat, Sun, Monday 9/28 (教師節) → 9/29.
        (roc(2026, 9, 10), roc(2026, 9, 29)),
        // Thursday 2026-03-05 + 15 = Friday 3/20, a working day.
        (roc(2026, 3, 5), roc(2026, 3, 20)),
        // Saturday 3/7 + 15 = Sunday 3/22 → Monday 3/23.
        (roc(2026, 3, 7), roc(2026, 3, 23)),
    ];
    for (received, due) in table {
        assert_eq!(
            Deadline::starting(received, &c).due,
            due,
            "received {received:?}"
        );
    }
}

#[test]
fn one_extension_adds_fifteen_days_from_the_first_deadline_across_holidays() {
    let c = cal();
    // Wednesday 3/4 + 15 = Thursday 3/19; + 15 = Friday 4/3 (兒童節 substitute), 4/3–4/6 off
    // → Tuesday 4/7.
    let d = Deadline::starting(roc(2026, 3, 4), &c);
    assert_eq!(d.due, roc(2026, 3, 19));
    let e = d.extend("  須調閱多個單位紀錄  ", &c).unwrap();
    assert_eq!(e.due, roc(2026, 4, 7));
    let ext = e.extension.clone().unwrap();
    assert_eq!(ext.reason, "須調閱多個單位紀錄");
    assert_eq!(ext.previous_due, roc(2026, 3, 19));
    assert!(!e.overdue(roc(2026, 4, 7)));
    assert!(e.overdue(roc(2026, 4, 8)));
}

#[test]
fn a_second_extension_and_an_extension_without_reason_are_refused() {
    let c = cal();
    let d = Deadline::starting(roc(2026, 3, 4), &c);
    for blank in ["", "   "] {
        let err = d.extend(blank, &c).unwrap_err();
        assert_eq!(err, CitizenReportError::ExtensionWithoutReason);
        assert_eq!(err.code(), "citizen_report.extension_without_reason");
    }
    let once = d.extend("理由", &c).unwrap();
    let err = once.extend("再延長", &c).unwrap_err();
    assert_eq!(err.code(), "citizen_report.second_extension");
    assert!(err.to_string().contains("僅得延長一次"));
    assert!(err.message_en().contains("only once"));
}

#[test]
fn a_request_needs_an_identity_check_and_something_asked() {
    let c = cal();
    let received = roc(2026, 3, 3);
    let table: [(Option<&str>, &str, Result<IdentityCheck, &str>); 6] = [
        (
            Some("in_person_id_card"),
            "查詢紀錄",
            Ok(IdentityCheck::InPersonIdCard),
        ),
        (
            Some(" moica_signed "),
            "查詢紀錄",
            Ok(IdentityCheck::MoicaSigned),
        ),
        (None, "查詢紀錄", Err("citizen_report.no_identity_check")),
        (
            Some(""),
            "查詢紀錄",
            Err("citizen_report.no_identity_check"),
        ),
        (
            Some("phone_call"),
            "查詢紀錄",
            Err("citizen_report.no_identity_check"),
        ),
        (
            Some("moica_signed"),
            "  ",
            Err("citizen_report.nothing_asked"),
        ),
    ];
    for (identity, asked, want) in table {
        let got = CitizenRequest::new(identity, asked, received, &c);
        match want {
            Ok(check) => {
                let r = got.unwrap();
                assert_eq!(r.identity, check);
                assert_eq!(r.deadline.due, roc(2026, 3, 18));
                assert!(r.deadline.extension.is_none());
            }
            Err(code) => assert_eq!(got.unwrap_err().code(), code, "{identity:?} {asked:?}"),
        }
    }
    let long = "字".repeat(MAX_TEXT_CHARS + 1);
    let err = CitizenRequest::new(Some("moica_signed"), &long, received, &c).unwrap_err();
    assert_eq!(err.code(), "citizen_report.too_long");
}

#[test]
fn a_withholding_needs_a_future_date_and_a_reason() {
    let today = roc(2026, 3, 3);
    let ok = Withholding::new(Some(roc(2026, 9, 1)), " 兒少保護個案偵辦中 ", today).unwrap();
    assert_eq!(ok.reason, "兒少保護個案偵辦中");
    let table = [
        (None, "理由", "citizen_report.withholding_without_date"),
        (
            Some(roc(2026, 9, 1)),
            " ",
            "citizen_report.withholding_without_reason",
        ),
        (
            Some(today),
            "理由",
            "citizen_report.withholding_date_not_future",
        ),
        (
            Some(roc(2026, 3, 2)),
            "理由",
            "citizen_report.withholding_date_not_future",
        ),
    ];
    for (date, reason, code) in table {
        let err = Withholding::new(date, reason, today).unwrap_err();
        assert_eq!(err.code(), code);
        assert!(!err.to_string().is_empty() && !err.message_en().is_empty());
    }
}

#[test]
fn a_withheld_entry_returns_on_its_disclosure_date() {
    let w = Withholding::new(Some(roc(2026, 9, 1)), "家暴案件", roc(2026, 3, 3)).unwrap();
    assert!(w.withholds_on(roc(2026, 3, 3)));
    assert!(w.withholds_on(roc(2026, 8, 31)));
    assert!(!w.withholds_on(roc(2026, 9, 1)));
    assert!(!w.withholds_on(roc(2027, 1, 1)));
}

#[test]
fn only_actions_on_the_subjects_data_are_report_entries() {
    use AuditAction as A;
    let listed = [
        (A::RegistrationCreated, EntryKind::Registration),
        (A::RegistrationCancelled, EntryKind::Registration),
        (A::RequestCreated, EntryKind::Form3Request),
        (A::QuerySent, EntryKind::Execution),
        (A::ExecutionRefused, EntryKind::Execution),
        (A::ResultViewed, EntryKind::View),
        (A::ResultPrinted, EntryKind::Print),
        (A::NationalIdRevealed, EntryKind::Reveal),
        (A::ResultDestroyed, EntryKind::Destruction),
    ];
    for (a, k) in listed {
        assert_eq!(EntryKind::from_action(a), Some(k), "{a:?}");
    }
    for a in [
        A::LoginSucceeded,
        A::AuditTrailSearched,
        A::GrantCreated,
        A::KeyRotated,
    ] {
        assert_eq!(EntryKind::from_action(a), None, "{a:?}");
    }
}

#[test]
fn working_days_left_skip_days_off_and_count_down_past_the_deadline() {
    let c = cal();
    // Due Monday 2/23 (after 春節 2/14–2/22): from Thursday 2/12 only 2/13 and 2/23 count.
    let due = roc(2026, 2, 23);
    assert_eq!(working_days_left(roc(2026, 2, 12), due, &c), 2);
    assert_eq!(working_days_left(roc(2026, 2, 13), due, &c), 1);
    assert_eq!(working_days_left(roc(2026, 2, 20), due, &c), 1);
    assert_eq!(working_days_left(due, due, &c), 0);
    // Tuesday 2/24 and Wednesday 2/25: one and two working days late.
    assert_eq!(working_days_left(roc(2026, 2, 24), due, &c), -1);
    assert_eq!(working_days_left(roc(2026, 2, 25), due, &c), -2);
}

#[test]
fn the_reminder_comes_three_working_days_before_and_the_escalation_after_the_deadline() {
    let c = cal();
    // Due Wednesday 3/18: 3 working days before is Friday 3/13.
    let open = DeadlineFacts {
        due: roc(2026, 3, 18),
        answered: false,
        reminded: false,
        escalated: false,
    };
    assert_eq!(notice_due(open, roc(2026, 3, 12), &c), None);
    assert_eq!(
        notice_due(open, roc(2026, 3, 13), &c),
        Some(DeadlineNotice::Reminder)
    );
    let reminded = DeadlineFacts {
        reminded: true,
        ..open
    };
    assert_eq!(notice_due(reminded, roc(2026, 3, 18), &c), None);
    assert_eq!(
        notice_due(reminded, roc(2026, 3, 19), &c),
        Some(DeadlineNotice::Escalation)
    );
    let escalated = DeadlineFacts {
        escalated: true,
        ..reminded
    };
    assert_eq!(notice_due(escalated, roc(2026, 3, 30), &c), None);
    let answered = DeadlineFacts {
        answered: true,
        ..open
    };
    assert_eq!(notice_due(answered, roc(2026, 3, 30), &c), None);
}

#[test]
fn only_the_subjects_own_card_proves_identity() {
    let subject = crate::NationalId::parse("A123456789").unwrap();
    assert_eq!(card_is_subjects(&subject, Some("6789")), Ok(()));
    for other in [Some("6780"), Some(""), None] {
        assert_eq!(
            card_is_subjects(&subject, other).unwrap_err().code(),
            "citizen_report.card_not_subjects"
        );
    }
}
