//! Table-style tests of the Form 1 chain, separation of duties, grants, personnel changes and
//! recertification.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::personnel::{ChangeKind, PersonnelEffect, StaffChange, classify, effects_of};
use super::recertification::*;
use super::*;
use crate::catalogue::seed_service_items;
use crate::deadline::HolidayCalendar;
use crate::testing::{approve, approve_from, unit};

fn lin() -> PersonId {
    PersonId::new(1)
}

fn chen() -> PersonId {
    PersonId::new(2)
}

fn huang() -> PersonId {
    PersonId::new(3)
}

fn wu() -> PersonId {
    PersonId::new(4)
}

fn zhang() -> PersonId {
    PersonId::new(5)
}

fn li() -> PersonId {
    PersonId::new(6)
}

fn xu() -> PersonId {
    PersonId::new(7)
}

fn zhou() -> PersonId {
    PersonId::new(10)
}

fn item(s: &str) -> ServiceItemCode {
    ServiceItemCode::parse(s).unwrap()
}

fn day(y: i16, m: i8, d: i8) -> RocDate {
    RocDate::new(y, m, d).unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_second(1_772_000_000).unwrap()
}

const TODAY: (i16, i8, i8) = (115, 3, 2);

fn today() -> RocDate {
    day(TODAY.0, TODAY.1, TODAY.2)
}

fn roster() -> Roster {
    let mut parents = BTreeMap::new();
    for (u, p) in [
        ("social-assistance", None),
        ("elderly-welfare", None),
        ("secretariat", None),
        ("it-group", Some("secretariat")),
        ("director", None),
    ] {
        parents.insert(unit(u), p.map(unit));
    }
    let supervisors = [
        ("social-assistance", chen()),
        ("elderly-welfare", xu()),
        ("secretariat", zhang()),
        ("director", zhou()),
    ]
    .into_iter()
    .map(|(u, p)| (unit(u), p))
    .collect();
    Roster {
        parents,
        supervisors,
        administrator: Some(wu()),
        administrator_unit: Some(unit("it-group")),
        deputy: Some(li()),
        admin_supervisors: vec![zhang()],
        director: Some(zhou()),
        inactive: BTreeSet::new(),
        unit_deputies: BTreeMap::new(),
    }
}

fn unit_of(p: PersonId) -> &'static str {
    match p.get() {
        1..=3 => "social-assistance",
        4 => "it-group",
        5 => "secretariat",
        6 | 7 => "elderly-welfare",
        _ => "director",
    }
}

fn who(p: PersonId) -> Participant {
    Participant {
        id: p,
        unit: unit(unit_of(p)),
        active: true,
        roles: match p.get() {
            4 => [Role::PermissionAdministrator].into(),
            5 => [Role::PermissionAdminSupervisor, Role::UnitSupervisor].into(),
            2 | 7 | 10 => [Role::UnitSupervisor].into(),
            _ => [Role::Querier].into(),
        },
    }
}

fn digest() -> SubjectDigest {
    SubjectDigest {
        key_id: "k1".into(),
        hex: "00".into(),
    }
}

fn draft(applicant: PersonId) -> PermissionApplication {
    PermissionApplication {
        id: ApplicationId::new(1),
        form_number: FormNumber::new(115, 1).unwrap(),
        application_date: today(),
        applicant,
        kind: ApplicationKind::New,
        unit: unit(unit_of(applicant)),
        title: "社會工作師".into(),
        name: "林美玲".into(),
        reason: "辦理低收入戶資格審查".into(),
        national_id_masked: "A12****789".into(),
        national_id_digest: digest(),
        phone: "07-1234567".into(),
        email: "lin@example.org".into(),
        egov_account: "linml".into(),
        items: [item("C0101"), item("B0101")].into(),
        confirmations: Confirmations {
            read_pdpa_and_rules: true,
            has_certificate_and_reader: true,
        },
        state: ApplicationState::Draft,
        round: 0,
        step_since: None,
        steps: vec![],
    }
}

/// Applies submit → new state and round, as the app layer does.
fn submitted(mut app: PermissionApplication) -> PermissionApplication {
    let by = who(app.applicant);
    app.state = submit(&app, &by, &seed_service_items()).unwrap();
    app.round += 1;
    app
}

fn act(
    app: &mut PermissionApplication,
    actor: PersonId,
    decision: StepDecision,
) -> Result<(), PermissionRefusal> {
    let cap = check_approver(app, &who(actor), &roster())?;
    let t = decide(app, &cap, decision, today(), now())?;
    app.steps.push(t.record);
    app.state = t.state;
    Ok(())
}

fn refuse() -> StepDecision {
    StepDecision::Refuse {
        reason: "業務不需要".into(),
    }
}

fn effective() -> RocDate {
    day(115, 3, 5)
}

#[test]
fn form_numbers_are_roc_year_and_four_digit_sequence() {
    let n = FormNumber::new(115, 1).unwrap();
    assert_eq!(n.to_string(), "115-0001");
    assert_eq!(FormNumber::parse("115-0001").unwrap(), n);
    assert_eq!(FormNumber::parse(" 115-12345 ").unwrap().seq(), 12345);
    for bad in [
        "", "115", "115-1", "115-0000", "0-0001", "a-0001", "115-00x1",
    ] {
        assert_eq!(FormNumber::parse(bad), Err(FormNumberError), "{bad:?}");
    }
    assert_eq!(serde_json::to_string(&n).unwrap(), "\"115-0001\"");
}

#[test]
fn application_kinds_round_trip() {
    for k in ApplicationKind::ALL {
        assert_eq!(ApplicationKind::parse_code(k.code()), Some(k));
    }
    assert!(ApplicationKind::New.requires_items());
    assert!(ApplicationKind::ChangeItems.requires_items());
    assert!(!ApplicationKind::Revoke.requires_items());
    assert!(!ApplicationKind::JobChange.requires_items());
    for s in Step::ALL {
        assert_eq!(Step::parse_code(s.code()), Some(s));
    }
}

#[test]
fn approved_at_every_step_ends_approved_with_the_effective_date() {
    let mut app = submitted(draft(lin()));
    assert_eq!(app.state.pending_step(), Some(Step::UnitSupervisor));
    assert_eq!(designated_approver(&app, &roster()), Ok(chen()));
    act(&mut app, chen(), approve()).unwrap();
    assert_eq!(designated_approver(&app, &roster()), Ok(wu()));
    act(&mut app, wu(), approve_from(effective())).unwrap();
    // 資訊小組 has no supervisor of its own: 秘書室's supervisor countersigns.
    assert_eq!(designated_approver(&app, &roster()), Ok(zhang()));
    act(&mut app, zhang(), approve()).unwrap();
    assert_eq!(
        app.state,
        ApplicationState::Approved {
            effective_from: effective()
        }
    );
    let who_signed: Vec<_> = app.steps.iter().map(|s| (s.step, s.by)).collect();
    assert_eq!(
        who_signed,
        [
            (Step::UnitSupervisor, chen()),
            (Step::PermissionAdministrator, wu()),
            (Step::Countersign, zhang())
        ]
    );
    assert!(app.state.is_final());
    assert_eq!(
        check_approver(&app, &who(zhang()), &roster()),
        Err(PermissionRefusal::NotPending)
    );
}

#[test]
fn refused_at_each_step_ends_refused_with_step_and_reason() {
    let chain = [
        (chen(), Step::UnitSupervisor),
        (wu(), Step::PermissionAdministrator),
        (zhang(), Step::Countersign),
    ];
    for stop in 0..chain.len() {
        let mut app = submitted(draft(lin()));
        for (i, (p, _)) in chain.iter().enumerate().take(stop) {
            let d = if i == 1 {
                approve_from(effective())
            } else {
                approve()
            };
            act(&mut app, *p, d).unwrap();
        }
        let (p, step) = chain[stop];
        act(&mut app, p, refuse()).unwrap();
        assert_eq!(
            app.state,
            ApplicationState::Refused {
                step,
                reason: "業務不需要".into()
            },
            "refused at {step:?}"
        );
        assert_eq!(app.steps.last().unwrap().outcome, StepOutcome::Refused);
        // Nothing more can happen to it.
        assert_eq!(
            withdraw(&app, &who(lin())),
            Err(PermissionRefusal::NotPending)
        );
        assert_eq!(
            submit(&app, &who(lin()), &seed_service_items()),
            Err(PermissionRefusal::AlreadySubmitted)
        );
    }
}

#[test]
fn refusal_needs_a_reason() {
    let mut app = submitted(draft(lin()));
    assert_eq!(
        act(
            &mut app,
            chen(),
            StepDecision::Refuse {
                reason: "  ".into()
            }
        ),
        Err(PermissionRefusal::ReasonRequired)
    );
}

#[test]
fn other_returns_to_the_applicant_who_may_resubmit_in_a_new_round() {
    let mut app = submitted(draft(lin()));
    act(&mut app, chen(), approve()).unwrap();
    act(
        &mut app,
        wu(),
        StepDecision::Other {
            note: "請補充業務說明".into(),
        },
    )
    .unwrap();
    assert_eq!(
        app.state,
        ApplicationState::Returned {
            note: "請補充業務說明".into()
        }
    );
    assert_eq!(may_amend(&app, &who(lin())), Ok(()));
    let mut app = submitted(app);
    assert_eq!(app.round, 2);
    // A new round: the supervisor signs again.
    act(&mut app, chen(), approve()).unwrap();
    act(&mut app, wu(), approve_from(effective())).unwrap();
    act(&mut app, zhang(), approve()).unwrap();
    assert!(matches!(app.state, ApplicationState::Approved { .. }));
    assert_eq!(app.steps.len(), 5);
}

#[test]
fn other_is_only_for_the_administrator() {
    let mut app = submitted(draft(lin()));
    assert_eq!(
        act(&mut app, chen(), StepDecision::Other { note: "x".into() }),
        Err(PermissionRefusal::DecisionNotAllowed(Step::UnitSupervisor))
    );
    assert_eq!(
        act(&mut app, chen(), approve_from(effective())),
        Err(PermissionRefusal::DecisionNotAllowed(Step::UnitSupervisor))
    );
}

#[test]
fn withdraw_before_the_last_step_only() {
    let app = draft(lin());
    assert_eq!(withdraw(&app, &who(lin())), Ok(ApplicationState::Withdrawn));
    let mut app = submitted(draft(lin()));
    assert_eq!(
        withdraw(&app, &who(chen())),
        Err(PermissionRefusal::NotApplicant)
    );
    assert_eq!(withdraw(&app, &who(lin())), Ok(ApplicationState::Withdrawn));
    act(&mut app, chen(), approve()).unwrap();
    assert_eq!(withdraw(&app, &who(lin())), Ok(ApplicationState::Withdrawn));
    act(&mut app, wu(), approve_from(effective())).unwrap();
    assert_eq!(
        withdraw(&app, &who(lin())),
        Err(PermissionRefusal::WithdrawTooLate)
    );
}

#[test]
fn double_submission_is_refused() {
    let app = submitted(draft(lin()));
    assert_eq!(
        submit(&app, &who(lin()), &seed_service_items()),
        Err(PermissionRefusal::AlreadySubmitted)
    );
}

#[test]
fn submission_needs_both_confirmations_items_and_an_active_applicant() {
    let mut app = draft(lin());
    app.confirmations.has_certificate_and_reader = false;
    assert_eq!(
        submit(&app, &who(lin()), &seed_service_items()),
        Err(PermissionRefusal::ConfirmationsMissing)
    );
    let mut app = draft(lin());
    app.confirmations.read_pdpa_and_rules = false;
    assert_eq!(
        submit(&app, &who(lin()), &seed_service_items()),
        Err(PermissionRefusal::ConfirmationsMissing)
    );
    let mut app = draft(lin());
    app.items.clear();
    assert_eq!(
        submit(&app, &who(lin()), &seed_service_items()),
        Err(PermissionRefusal::ItemsRequired)
    );
    app.kind = ApplicationKind::Revoke;
    assert!(submit(&app, &who(lin()), &seed_service_items()).is_ok());
    let app = draft(lin());
    let mut disabled = who(lin());
    disabled.active = false;
    assert_eq!(
        submit(&app, &disabled, &seed_service_items()),
        Err(PermissionRefusal::ApplicantDisabled)
    );
    assert_eq!(
        submit(&app, &who(huang()), &seed_service_items()),
        Err(PermissionRefusal::NotApplicant)
    );
}

fn form() -> ApplicationForm {
    ApplicationForm {
        kind: ApplicationKind::New,
        reason: "辦理低收入戶資格審查".into(),
        national_id: NationalId::parse("A123456789").unwrap(),
        phone: "07-1234567".into(),
        email: "lin@example.org".into(),
        egov_account: "linml".into(),
        items: [item("C0101")].into(),
        confirmations: Confirmations::default(),
    }
}

#[test]
fn the_form_is_checked_field_by_field() {
    let cat = seed_service_items();
    assert_eq!(check_form(&form(), &who(lin()), &cat, Some("6789")), Ok(()));
    assert_eq!(
        check_form(&form(), &who(lin()), &cat, Some("1234")),
        Err(PermissionRefusal::NationalIdMismatch)
    );
    let mut f = form();
    f.items.insert(item("Z9999"));
    assert_eq!(
        check_form(&f, &who(lin()), &cat, None),
        Err(PermissionRefusal::UnknownItem(item("Z9999")))
    );
    let mut retired = cat.clone();
    retired[0].active = false;
    assert_eq!(
        check_form(&form(), &who(lin()), &retired, None),
        Err(PermissionRefusal::UnknownItem(item("C0101")))
    );
    let mut f = form();
    f.reason = " ".into();
    assert_eq!(
        check_form(&f, &who(lin()), &cat, None),
        Err(PermissionRefusal::MissingField("申請事由"))
    );
    let mut f = form();
    f.email = "no-at-sign".into();
    assert!(check_form(&f, &who(lin()), &cat, None).is_err());
    let mut f = form();
    f.reason = "字".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(
        check_form(&f, &who(lin()), &cat, None),
        Err(PermissionRefusal::TextTooLong("申請事由"))
    );
    let mut f = form();
    f.items.clear();
    assert_eq!(
        check_form(&f, &who(lin()), &cat, None),
        Err(PermissionRefusal::ItemsRequired)
    );
    let mut disabled = who(lin());
    disabled.active = false;
    assert_eq!(
        check_form(&form(), &disabled, &cat, None),
        Err(PermissionRefusal::ApplicantDisabled)
    );
}

#[test]
fn nobody_approves_their_own_application_at_any_step() {
    // The supervisor's own application goes up to the director; the supervisor cannot sign.
    let mut app = submitted(draft(chen()));
    assert_eq!(designated_approver(&app, &roster()), Ok(zhou()));
    let err = act(&mut app, chen(), approve()).unwrap_err();
    assert_eq!(err, PermissionRefusal::OwnApplication);
    assert!(err.is_separation_of_duties());
    act(&mut app, zhou(), approve()).unwrap();
    act(&mut app, wu(), approve_from(effective())).unwrap();
    // The countersigner's own application.
    let mut app = submitted(draft(zhang()));
    act(&mut app, zhou(), approve()).unwrap();
    act(&mut app, wu(), approve_from(effective())).unwrap();
    assert_eq!(
        act(&mut app, zhang(), approve()),
        Err(PermissionRefusal::OwnApplication)
    );
    // 秘書室 → none above; zhang() is excluded: the countersign goes to the next level up,
    // the director, who also consented because nobody else stands above zhang().
    assert_eq!(designated_approver(&app, &roster()), Ok(zhou()));
    act(&mut app, zhou(), approve()).unwrap();
    assert!(matches!(app.state, ApplicationState::Approved { .. }));
}

#[test]
fn the_director_signs_twice_only_when_nobody_else_can_countersign() {
    // With another holder of the countersigner's role, the two signatures stay two people.
    let mut r = roster();
    r.admin_supervisors.push(xu());
    let mut app = submitted(draft(zhang()));
    let cap = check_approver(&app, &who(zhou()), &r).unwrap();
    let t = decide(&app, &cap, approve(), today(), now()).unwrap();
    app.steps.push(t.record);
    app.state = t.state;
    let cap = check_approver(&app, &who(wu()), &r).unwrap();
    let t = decide(&app, &cap, approve_from(effective()), today(), now()).unwrap();
    app.steps.push(t.record);
    app.state = t.state;
    assert_eq!(designated_approver(&app, &r), Ok(xu()));
    assert_eq!(
        check_approver(&app, &who(zhou()), &r),
        Err(PermissionRefusal::SupervisorCountersigns)
    );
}

#[test]
fn the_administrators_own_application_goes_to_the_deputy() {
    let mut app = submitted(draft(wu()));
    // 資訊小組 → 秘書室: zhang() consents as the applicant's supervisor.
    act(&mut app, zhang(), approve()).unwrap();
    let err = act(&mut app, wu(), approve_from(effective())).unwrap_err();
    assert_eq!(err, PermissionRefusal::AdministratorOwnApplication);
    assert_eq!(err.code(), "sod.administrator_own_application");
    assert_eq!(designated_approver(&app, &roster()), Ok(li()));
    act(&mut app, li(), approve_from(effective())).unwrap();
    // zhang() signed as supervisor, so the countersign goes to the director.
    assert_eq!(
        act(&mut app, zhang(), approve()),
        Err(PermissionRefusal::SupervisorCountersigns)
    );
    assert_eq!(designated_approver(&app, &roster()), Ok(zhou()));
    act(&mut app, zhou(), approve()).unwrap();
    assert!(matches!(app.state, ApplicationState::Approved { .. }));
}

#[test]
fn without_a_deputy_the_administrators_application_cannot_proceed() {
    let mut r = roster();
    r.deputy = None;
    let mut app = submitted(draft(wu()));
    let cap = check_approver(&app, &who(zhang()), &r).unwrap();
    let t = decide(&app, &cap, approve(), today(), now()).unwrap();
    app.steps.push(t.record);
    app.state = t.state;
    assert_eq!(
        designated_approver(&app, &r),
        Err(PermissionRefusal::NoDeputy)
    );
    assert_eq!(
        check_approver(&app, &who(li()), &r),
        Err(PermissionRefusal::NoDeputy)
    );
}

#[test]
fn supervisor_and_countersigner_are_different_people() {
    // An applicant in 秘書室: zhang() is both their supervisor and the countersigner by default.
    let mut app = draft(huang());
    app.unit = unit("secretariat");
    let mut app = submitted(app);
    act(&mut app, zhang(), approve()).unwrap();
    act(&mut app, wu(), approve_from(effective())).unwrap();
    let err = act(&mut app, zhang(), approve()).unwrap_err();
    assert_eq!(err, PermissionRefusal::SupervisorCountersigns);
    assert_eq!(err.code(), "sod.supervisor_countersigns");
    assert_eq!(designated_approver(&app, &roster()), Ok(zhou()));
}

#[test]
fn nobody_signs_two_steps_of_one_application() {
    let mut app = submitted(draft(lin()));
    act(&mut app, chen(), approve()).unwrap();
    act(&mut app, wu(), approve_from(effective())).unwrap();
    assert_eq!(
        act(&mut app, wu(), approve()),
        Err(PermissionRefusal::TwoSteps)
    );
}

#[test]
fn only_the_designated_approver_acts() {
    let mut app = submitted(draft(lin()));
    for p in [xu(), huang(), wu(), zhang(), zhou()] {
        assert_eq!(
            act(&mut app, p, approve()),
            Err(PermissionRefusal::WrongApprover(Step::UnitSupervisor)),
            "{p:?}"
        );
    }
    let mut off = who(chen());
    off.active = false;
    assert_eq!(
        check_approver(&app, &off, &roster()),
        Err(PermissionRefusal::ApproverDisabled)
    );
    // An inactive supervisor is skipped: the director takes over.
    let mut r = roster();
    r.inactive.insert(chen());
    assert_eq!(designated_approver(&app, &r), Ok(zhou()));
    assert_eq!(
        check_approver(&draft(lin()), &who(chen()), &roster()),
        Err(PermissionRefusal::NotPending)
    );
}

#[test]
fn a_capability_is_for_one_step_only() {
    let mut app = submitted(draft(lin()));
    let cap = check_approver(&app, &who(chen()), &roster()).unwrap();
    assert_eq!(
        (cap.step(), cap.person(), cap.round()),
        (Step::UnitSupervisor, chen(), 1)
    );
    let t = decide(&app, &cap, approve(), today(), now()).unwrap();
    app.steps.push(t.record);
    app.state = t.state;
    assert_eq!(
        decide(&app, &cap, approve(), today(), now()),
        Err(PermissionRefusal::StaleStep)
    );
    let mut other = app.clone();
    other.id = ApplicationId::new(2);
    let wu = check_approver(&app, &who(wu()), &roster()).unwrap();
    assert_eq!(
        decide(&other, &wu, approve_from(effective()), today(), now()),
        Err(PermissionRefusal::StaleStep)
    );
}

#[test]
fn effective_dates_are_required_and_never_in_the_past() {
    let mut app = submitted(draft(lin()));
    act(&mut app, chen(), approve()).unwrap();
    assert_eq!(
        act(&mut app, wu(), approve()),
        Err(PermissionRefusal::EffectiveDateRequired)
    );
    assert_eq!(
        act(&mut app, wu(), approve_from(day(115, 3, 1))),
        Err(PermissionRefusal::EffectiveDateInPast)
    );
    act(&mut app, wu(), approve_from(today())).unwrap();
    // The countersign comes three days later: the given date has passed.
    let later = day(115, 3, 5);
    let cap = check_approver(&app, &who(zhang()), &roster()).unwrap();
    assert_eq!(
        decide(&app, &cap, approve(), later, now()),
        Err(PermissionRefusal::EffectiveDateBeforeApproval)
    );
    assert_eq!(
        decide(&app, &cap, approve_from(day(115, 3, 4)), later, now()),
        Err(PermissionRefusal::EffectiveDateInPast)
    );
    let t = decide(&app, &cap, approve_from(day(115, 3, 9)), later, now()).unwrap();
    assert_eq!(
        t.state,
        ApplicationState::Approved {
            effective_from: day(115, 3, 9)
        }
    );
    assert_eq!(t.record.effective_from, Some(day(115, 3, 9)));
}

#[test]
fn desks_are_capabilities() {
    assert!(administrator_desk(&who(wu()), &roster()).is_ok());
    assert!(administrator_desk(&who(zhang()), &roster()).is_ok());
    // The deputy holds the desk only while the administrator is registered absent.
    assert_eq!(
        administrator_desk(&who(li()), &roster()),
        Err(PermissionRefusal::DeputyOutOfScope)
    );
    let mut absent = roster();
    absent.inactive.insert(wu());
    let deputy = administrator_desk(&who(li()), &absent).unwrap();
    assert_eq!((deputy.person(), deputy.acting_for()), (li(), Some(wu())));
    assert_eq!(
        administrator_desk(&who(wu()), &roster())
            .unwrap()
            .acting_for(),
        None
    );
    assert_eq!(
        administrator_desk(&who(lin()), &roster()),
        Err(PermissionRefusal::NotAdministrator)
    );
    let zhang = supervisor_desk(&who(zhang()), &roster()).unwrap();
    assert_eq!(
        zhang.units(),
        &[unit("it-group"), unit("secretariat")].into()
    );
    assert_eq!(
        supervisor_desk(&who(lin()), &roster()),
        Err(PermissionRefusal::NotSupervisor)
    );
}

fn grant(id: i64, it: &str, from: RocDate) -> PermissionGrant {
    crate::testing::grant(id, lin(), it, from, None)
}

#[test]
fn grants_are_in_force_between_their_dates() {
    let mut g = grant(1, "C0101", day(115, 3, 5));
    let grants = [g.clone()];
    assert!(!holds_grant(&grants, &item("C0101"), day(115, 3, 4)));
    assert!(holds_grant(&grants, &item("C0101"), day(115, 3, 5)));
    assert!(!holds_grant(&grants, &item("B0101"), day(115, 3, 5)));
    g.status = GrantStatus::Ended;
    g.effective_to = Some(day(115, 6, 1));
    assert!(g.in_force_on(day(115, 5, 31)));
    assert!(!g.in_force_on(day(115, 6, 1)));
    let mut s = grant(2, "B0101", day(115, 1, 1));
    s.status = GrantStatus::Suspended;
    s.suspended_from = Some(day(115, 4, 1));
    assert!(s.in_force_on(day(115, 3, 31)));
    assert!(!s.in_force_on(day(115, 4, 1)));
    assert_eq!(
        active_items(&[g.clone(), s.clone()], day(115, 3, 31)),
        [item("B0101"), item("C0101")].into()
    );
    assert_eq!(active_items(&[g, s], day(115, 6, 1)), BTreeSet::new());
    // Inconsistent rows fail closed.
    let mut bad = grant(3, "C0101", day(115, 1, 1));
    bad.status = GrantStatus::Ended;
    assert!(!bad.in_force_on(day(115, 3, 1)));
    bad.status = GrantStatus::Suspended;
    assert!(!bad.in_force_on(day(115, 3, 1)));
}

#[test]
fn each_kind_of_application_plans_its_grants() {
    let c = grant(1, "C0101", day(115, 1, 1));
    let mut b = grant(2, "B0101", day(115, 1, 1));
    b.status = GrantStatus::Suspended;
    b.suspended_from = Some(day(115, 2, 1));
    let mut old = grant(3, "N0101", day(114, 1, 1));
    old.status = GrantStatus::Ended;
    old.effective_to = Some(day(114, 6, 1));
    let current = [c, b, old];
    let items = |xs: &[&str]| xs.iter().map(|x| item(x)).collect::<BTreeSet<_>>();

    let p = plan_for_approval(
        ApplicationKind::New,
        &items(&["C0101", "B0101", "P0301"]),
        &current,
    );
    assert_eq!(p.create, items(&["B0101", "P0301"]));
    assert_eq!(p.end, [GrantId::new(2)]);

    let p = plan_for_approval(ApplicationKind::Revoke, &items(&[]), &current);
    assert_eq!(
        (p.create.len(), p.end.clone()),
        (0, vec![GrantId::new(1), GrantId::new(2)])
    );
    let p = plan_for_approval(ApplicationKind::Revoke, &items(&["C0101"]), &current);
    assert_eq!(p.end, [GrantId::new(1)]);

    let p = plan_for_approval(
        ApplicationKind::ChangeItems,
        &items(&["C0101", "T0101"]),
        &current,
    );
    assert_eq!(p.create, items(&["T0101"]));
    assert_eq!(p.end, [GrantId::new(2)]);

    let p = plan_for_approval(ApplicationKind::JobChange, &items(&["C0101"]), &current);
    assert_eq!(p.create, items(&["C0101"]));
    assert_eq!(p.end, [GrantId::new(1), GrantId::new(2)]);
}

fn change(from: StaffStatus, to: StaffStatus, to_unit: &str) -> StaffChange {
    StaffChange {
        person: lin(),
        from_status: from,
        to_status: to,
        from_unit: unit("social-assistance"),
        to_unit: unit(to_unit),
        effective: day(115, 4, 1),
    }
}

#[test]
fn every_personnel_transition_has_its_effects() {
    use StaffStatus::*;
    let grants = [
        grant(1, "C0101", day(115, 1, 1)),
        grant(2, "B0101", day(115, 1, 1)),
    ];
    let both = vec![GrantId::new(1), GrantId::new(2)];
    let sa = "social-assistance";

    for (to, u, cause) in [
        (Transferred, "elderly-welfare", SuspensionCause::Transferred),
        (Active, "elderly-welfare", SuspensionCause::Transferred),
        (OnLeave, sa, SuspensionCause::OnLeave),
    ] {
        let c = change(Active, to, u);
        let fx = effects_of(&c, &grants).unwrap();
        assert!(
            fx.contains(&PersonnelEffect::SuspendGrants {
                grants: both.clone(),
                from: day(115, 4, 1),
                cause
            }),
            "{to:?}"
        );
        for e in [
            PersonnelEffect::CancelOpenRegistrations {
                from: day(115, 4, 1),
            },
            PersonnelEffect::NotifyAdministrator,
            PersonnelEffect::NotifySupervisor { unit: unit(sa) },
            PersonnelEffect::RequireNewApplication,
        ] {
            assert!(fx.contains(&e), "{to:?} lacks {e:?}");
        }
        assert!(!fx.contains(&PersonnelEffect::DisableAccount));
    }

    let fx = effects_of(&change(Active, Left, sa), &grants).unwrap();
    assert_eq!(
        classify(&change(Active, Left, sa)),
        Ok(ChangeKind::Departure)
    );
    for e in [
        PersonnelEffect::EndGrants {
            grants: both.clone(),
            on: day(115, 4, 1),
        },
        PersonnelEffect::RemoveCertificateBinding,
        PersonnelEffect::DisableAccount,
        PersonnelEffect::CancelOpenRegistrations {
            from: day(115, 4, 1),
        },
    ] {
        assert!(fx.contains(&e), "left lacks {e:?}");
    }
    // Leaving from leave or after a transfer is a departure too.
    assert_eq!(
        classify(&change(OnLeave, Left, sa)),
        Ok(ChangeKind::Departure)
    );
    assert_eq!(
        classify(&change(Transferred, Left, sa)),
        Ok(ChangeKind::Departure)
    );
    assert_eq!(
        classify(&change(Transferred, OnLeave, sa)),
        Ok(ChangeKind::Leave)
    );

    // Coming back: grants stay suspended; a new application is needed.
    let fx = effects_of(&change(OnLeave, Active, sa), &grants).unwrap();
    assert_eq!(
        classify(&change(OnLeave, Active, sa)),
        Ok(ChangeKind::Return)
    );
    assert!(fx.contains(&PersonnelEffect::RequireNewApplication));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, PersonnelEffect::SuspendGrants { .. }))
    );

    // No change, and nothing after leaving.
    assert_eq!(
        effects_of(&change(Active, Active, sa), &grants),
        Err(PermissionRefusal::NoChange)
    );
    assert_eq!(
        effects_of(&change(Left, Left, sa), &grants),
        Err(PermissionRefusal::NoChange)
    );
    assert_eq!(
        effects_of(&change(Left, Active, sa), &grants)
            .unwrap_err()
            .code(),
        "personnel.invalid_transition"
    );
}

#[test]
fn grants_already_suspended_earlier_are_left_alone() {
    let mut g = grant(1, "C0101", day(115, 1, 1));
    g.status = GrantStatus::Suspended;
    g.suspended_from = Some(day(115, 2, 1));
    let fx = effects_of(
        &change(
            StaffStatus::Active,
            StaffStatus::OnLeave,
            "social-assistance",
        ),
        &[g],
    )
    .unwrap();
    assert!(
        !fx.iter()
            .any(|e| matches!(e, PersonnelEffect::SuspendGrants { .. }))
    );
}

#[test]
fn a_recertification_round_suspends_what_was_not_confirmed() {
    let policy = RecertificationPolicy::default();
    let cal = HolidayCalendar::seeded().unwrap();
    let today = day(115, 4, 1);
    let grants = [
        grant(1, "C0101", day(114, 1, 1)), // used last week
        grant(2, "B0101", day(114, 1, 1)), // last used 7 months ago
        grant(3, "B0201", day(114, 1, 1)), // never used, old
        grant(4, "P0301", day(115, 3, 1)), // never used, new
    ];
    let usage: BTreeMap<GrantId, GrantUsage> = [
        (
            GrantId::new(1),
            GrantUsage {
                uses_last_quarter: 12,
                last_used: Some(day(115, 3, 25)),
            },
        ),
        (
            GrantId::new(2),
            GrantUsage {
                uses_last_quarter: 0,
                last_used: Some(day(114, 9, 1)),
            },
        ),
    ]
    .into();
    let mut items = items_for_round(&grants, &usage, today, &policy);
    let proposals: Vec<bool> = items.iter().map(|i| i.propose_removal).collect();
    assert_eq!(proposals, [false, true, true, false]);
    assert_eq!(items[0].uses_last_quarter, 12);

    let round = RecertificationRound {
        id: RoundId::new(1),
        supervisor: chen(),
        quarter: Quarter::of(today),
        opened_on: today,
        deadline: round_deadline(today, &policy, &cal),
        closed_on: None,
    };
    // 2026-04-01 + 10 working days, past the 4/3–4/6 break: 4/17.
    assert_eq!(round.deadline, day(115, 4, 17));
    assert_eq!(round.quarter.to_string(), "2026-Q2");
    assert_eq!(round.quarter.name_zh(), "115 年第 2 季");
    assert_eq!(
        check_decision(&round, &items, xu(), GrantId::new(1)),
        Err(PermissionRefusal::NotRoundOwner)
    );
    assert_eq!(
        check_decision(&round, &items, chen(), GrantId::new(9)),
        Err(PermissionRefusal::NotInRound)
    );
    check_decision(&round, &items, chen(), GrantId::new(1)).unwrap();
    items[0].decision = Some(RecertificationDecision::Confirmed);
    items[1].decision = Some(RecertificationDecision::NotNeeded);
    items[3].decision = Some(RecertificationDecision::Confirmed);
    assert_eq!(
        close_round(&round, &items, day(115, 4, 10))
            .unwrap_err()
            .code(),
        "recertification.deadline_not_reached"
    );
    let suspend = close_round(&round, &items, day(115, 4, 20)).unwrap();
    assert_eq!(suspend, [GrantId::new(2), GrantId::new(3)]);
    let mut closed = round.clone();
    closed.closed_on = Some(day(115, 4, 20));
    assert_eq!(
        close_round(&closed, &items, day(115, 4, 18)),
        Err(PermissionRefusal::RoundClosed)
    );
    assert_eq!(
        check_decision(&closed, &items, chen(), GrantId::new(1)),
        Err(PermissionRefusal::RoundClosed)
    );
    // Every line answered: may close early.
    items[2].decision = Some(RecertificationDecision::Confirmed);
    assert_eq!(
        close_round(&round, &items, day(115, 4, 2)).unwrap(),
        [GrantId::new(2)]
    );
}

#[test]
fn quarters_parse_and_order() {
    assert_eq!(
        Quarter::parse("2026-Q1").unwrap(),
        Quarter::of(day(115, 3, 31))
    );
    assert!(Quarter::parse("2026-Q1").unwrap() < Quarter::of(day(115, 4, 1)));
    for bad in ["2026", "2026-Q5", "2026-Q0", "x-Q1", "1800-Q1"] {
        assert!(Quarter::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn idle_accounts_are_those_unused_for_more_than_n_days() {
    let policy = RecertificationPolicy::default();
    let today = day(115, 6, 30);
    let acts = [
        AccountActivity {
            person: lin(),
            last_active: day(115, 4, 1),
            already_disabled: false,
        }, // exactly 90
        AccountActivity {
            person: huang(),
            last_active: day(115, 3, 31),
            already_disabled: false,
        }, // 91
        AccountActivity {
            person: xu(),
            last_active: day(114, 1, 1),
            already_disabled: true,
        },
    ];
    assert_eq!(idle_accounts(&acts, today, &policy), [huang()]);
}

#[test]
fn reminders_count_working_days() {
    let cal = HolidayCalendar::seeded().unwrap();
    // Waiting since Thursday 2026-04-02; 3 working days later is Thursday 4/9.
    assert_eq!(reminder_date(day(115, 4, 2), 3, &cal), day(115, 4, 9));
    assert!(!reminder_due(day(115, 4, 2), 3, &cal, day(115, 4, 8)));
    assert!(reminder_due(day(115, 4, 2), 3, &cal, day(115, 4, 9)));
}

#[test]
fn refusal_codes_are_stable_and_distinct() {
    let all = [
        PermissionRefusal::UnknownItem(item("C0101")),
        PermissionRefusal::ItemsRequired,
        PermissionRefusal::ConfirmationsMissing,
        PermissionRefusal::MissingField("x"),
        PermissionRefusal::TextTooLong("x"),
        PermissionRefusal::NationalIdMismatch,
        PermissionRefusal::ApplicantDisabled,
        PermissionRefusal::NotApplicant,
        PermissionRefusal::AlreadySubmitted,
        PermissionRefusal::NotPending,
        PermissionRefusal::StaleStep,
        PermissionRefusal::WrongApprover(Step::Countersign),
        PermissionRefusal::ApproverDisabled,
        PermissionRefusal::NoEligibleApprover(Step::Countersign),
        PermissionRefusal::NoDeputy,
        PermissionRefusal::OwnApplication,
        PermissionRefusal::AdministratorOwnApplication,
        PermissionRefusal::SupervisorCountersigns,
        PermissionRefusal::TwoSteps,
        PermissionRefusal::EffectiveDateRequired,
        PermissionRefusal::EffectiveDateInPast,
        PermissionRefusal::EffectiveDateBeforeApproval,
        PermissionRefusal::DecisionNotAllowed(Step::UnitSupervisor),
        PermissionRefusal::ReasonRequired,
        PermissionRefusal::WithdrawTooLate,
        PermissionRefusal::NotAdministrator,
        PermissionRefusal::NotSupervisor,
        PermissionRefusal::NoChange,
        PermissionRefusal::RoundAlreadyOpen,
        PermissionRefusal::RoundClosed,
        PermissionRefusal::NotInRound,
        PermissionRefusal::NotRoundOwner,
    ];
    let codes: BTreeSet<_> = all.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), all.len());
    let sod: Vec<_> = all.iter().filter(|r| r.is_separation_of_duties()).collect();
    assert_eq!(sod.len(), 4);
    assert!(all.iter().all(|r| !r.to_string().is_empty()));
    // Every refusal has an English message too, in English (no CJK left in it), distinct from
    // the zh-TW one.
    for r in all.iter().filter(|r| {
        !matches!(
            r,
            PermissionRefusal::MissingField("x") | PermissionRefusal::TextTooLong("x")
        )
    }) {
        let en = r.message_en();
        assert!(!en.is_empty() && en != r.to_string(), "{}", r.code());
        assert!(
            en.chars().all(|c| !('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{en}"
        );
    }
}

#[test]
fn english_refusal_messages_name_fields_steps_and_statuses_in_english() {
    assert_eq!(
        PermissionRefusal::MissingField("申請事由").message_en(),
        "\"reason\" is not filled in"
    );
    assert!(
        PermissionRefusal::TextTooLong("電子化政府帳號")
            .message_en()
            .contains("e-government account")
    );
    assert!(
        PermissionRefusal::WrongApprover(Step::Countersign)
            .message_en()
            .contains("permission administrator's supervisor")
    );
    let t = PermissionRefusal::InvalidTransition {
        from: StaffStatus::Left.name_zh(),
        to: StaffStatus::Active.name_zh(),
    };
    assert_eq!(
        t.message_en(),
        "A person's status cannot change from \"left\" to \"active\""
    );
    assert!(
        PermissionRefusal::UnknownItem(item("Z9999"))
            .message_en()
            .contains("Z9999")
    );
    assert!(
        PermissionRefusal::RoundDeadlineNotReached("2026-06-30".into())
            .message_en()
            .contains("2026-06-30")
    );
}

#[test]
fn the_countersigner_may_not_move_a_future_effective_date_at_all() {
    let mut app = submitted(draft(lin()));
    act(&mut app, chen(), approve()).unwrap();
    let set = day(115, 3, 20);
    act(&mut app, wu(), approve_from(set)).unwrap();
    let cap = check_approver(&app, &who(zhang()), &roster()).unwrap();
    // Earlier (even today), or later while the administrator's date has not passed: refused.
    for d in [today(), day(115, 3, 10), day(115, 3, 25)] {
        assert_eq!(
            decide(&app, &cap, approve_from(d), today(), now()),
            Err(PermissionRefusal::EffectiveDateNotReplaceable),
            "{d:?}"
        );
    }
    // The administrator's own date stands.
    let t = decide(&app, &cap, approve_from(set), today(), now()).unwrap();
    assert_eq!(
        t.state,
        ApplicationState::Approved {
            effective_from: set
        }
    );
}

#[test]
fn a_waiting_step_names_the_signer_and_whether_they_sign_as_acting() {
    let own = |p: PersonId| acting::Signer {
        person: p,
        acting: false,
        acting_for: None,
    };
    // The supervisor present: chen signs as himself.
    let app = submitted(draft(lin()));
    assert_eq!(designated_signer(&app, &roster()), Ok(own(chen())));
    // chen absent with huang registered as his deputy: huang signs, as 代理 for chen.
    let mut r = roster();
    r.inactive.insert(chen());
    r.unit_deputies.insert(unit("social-assistance"), huang());
    assert_eq!(
        designated_signer(&app, &r),
        Ok(acting::Signer {
            person: huang(),
            acting: true,
            acting_for: Some(chen()),
        })
    );
    assert_eq!(designated_approver(&app, &r), Ok(huang()));
    // The administrator's own application: his deputy signs in his place, as 代理.
    let mut app = submitted(draft(wu()));
    act(&mut app, zhang(), approve()).unwrap();
    assert_eq!(
        designated_signer(&app, &roster()),
        Ok(acting::Signer {
            person: li(),
            acting: true,
            acting_for: Some(wu()),
        })
    );
}
