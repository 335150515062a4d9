use super::*;
use crate::org::{Account, StaffStatus};

const QUERIER: PersonId = PersonId::new(1);
const SUPERVISOR: PersonId = PersonId::new(2);
const IT_ADMIN: PersonId = PersonId::new(3);
const ETHICS: PersonId = PersonId::new(4);
const SECRETARIAT_HEAD: PersonId = PersonId::new(5);
const DIRECTOR: PersonId = PersonId::new(6);
const CLERK: PersonId = PersonId::new(7);

fn unit(s: &str) -> UnitId {
    UnitId::new(s).unwrap()
}

fn person(id: PersonId, unit_id: &str, roles: &[Role]) -> Person {
    Person {
        id,
        account: Account::parse(&format!("p{}", id.get() + 100)).unwrap(),
        name: "測試".into(),
        title: "科員".into(),
        unit: unit(unit_id),
        roles: roles.iter().copied().collect(),
        status: StaffStatus::Active,
    }
}

fn d(y: i16, m: i8, day: i8) -> RocDate {
    RocDate::new(y, m, day).unwrap()
}

fn no(seq: u32) -> RegistrationNo {
    RegistrationNo::new(115, seq).unwrap()
}

fn candidate(id: i64, weight: u32) -> Candidate {
    Candidate {
        registration: RegistrationId::new(id),
        no: no(id as u32),
        approving_unit: unit("social-assistance"),
        approvers: vec![SUPERVISOR],
        weight,
    }
}

fn plan() -> AuditPlan {
    AuditPlan {
        period_from: d(115, 1, 1),
        period_to: d(115, 3, 31),
        audit_date: d(115, 4, 10),
        querier: QUERIER,
        auditing_unit: unit("it-group"),
        auditing_unit_phone: "07-3368333#2101".into(),
        auditors: vec![IT_ADMIN],
        documents_deadline: d(115, 4, 20),
        cases: 2,
        method: SamplingMethod::Uniform,
    }
}

fn audit(state: AuditState) -> UnannouncedAudit {
    UnannouncedAudit {
        id: AuditId::new(1),
        plan: plan(),
        querier_unit: unit("social-assistance"),
        opened_by: IT_ADMIN,
        opened_at: jiff::Timestamp::UNIX_EPOCH,
        seed: 7,
        candidates: vec![(RegistrationId::new(10), 1), (RegistrationId::new(11), 1)],
        cases: vec![
            AuditCase {
                registration: RegistrationId::new(10),
                no: no(10),
                position: 1,
                weight: 1,
                opinion: None,
            },
            AuditCase {
                registration: RegistrationId::new(11),
                no: no(11),
                position: 2,
                weight: 1,
                opinion: None,
            },
        ],
        state,
        overall: None,
        sign_offs: Vec::new(),
        review: None,
    }
}

fn signers() -> Signers {
    Signers {
        querier_supervisors: vec![SUPERVISOR, DIRECTOR],
        auditing_supervisors: vec![SECRETARIAT_HEAD],
        director: Some(DIRECTOR),
    }
}

fn opined(mut a: UnannouncedAudit) -> UnannouncedAudit {
    for c in &mut a.cases {
        c.opinion = Some(CaseOpinion {
            conforms: true,
            text: "符合".into(),
            by: IT_ADMIN,
        });
    }
    a
}

#[test]
fn only_the_it_group_administrator_and_ethics_auditors_open_audits_and_only_the_director_reviews() {
    let cases = [
        (Role::PermissionAdministrator, true, false),
        (Role::EthicsAuditor, true, false),
        (Role::Director, false, true),
        (Role::UnitSupervisor, false, false),
        (Role::Querier, false, false),
        (Role::PermissionAdminSupervisor, false, false),
    ];
    for (role, opens, reviews) in cases {
        let p = person(CLERK, "it-group", &[role]);
        assert_eq!(audit_office(&p).is_ok(), opens, "{role:?} opening");
        assert_eq!(director_chair(&p).is_ok(), reviews, "{role:?} reviewing");
    }
    assert_eq!(
        audit_office(&person(CLERK, "social-work", &[Role::Staff])),
        Err(AuditRefusal::NotAuditOffice)
    );
}

#[test]
fn a_plan_is_checked_field_by_field() {
    let admin = person(IT_ADMIN, "it-group", &[Role::PermissionAdministrator]);
    let clerk = person(CLERK, "it-group", &[Role::Staff]);
    let it = Some(UnitKind::ItGroup);
    type Case = (
        &'static str,
        fn(&mut AuditPlan),
        Option<UnitKind>,
        Option<AuditRefusal>,
    );
    let table: Vec<Case> = vec![
        ("valid", |_| {}, it, None),
        (
            "ethics office audits too",
            |p| p.auditing_unit = UnitId::new("ethics").unwrap(),
            Some(UnitKind::EthicsOffice),
            None,
        ),
        (
            "period reversed",
            |p| p.period_from = RocDate::new(115, 4, 1).unwrap(),
            it,
            Some(AuditRefusal::Period),
        ),
        (
            "period ends after the audit date",
            |p| p.period_to = RocDate::new(115, 4, 11).unwrap(),
            it,
            Some(AuditRefusal::Period),
        ),
        (
            "deadline before the audit date",
            |p| p.documents_deadline = RocDate::new(115, 4, 9).unwrap(),
            it,
            Some(AuditRefusal::Deadline),
        ),
        (
            "a business section is not an auditing unit",
            |_| {},
            Some(UnitKind::BureauSection),
            Some(AuditRefusal::AuditingUnit),
        ),
        (
            "unknown unit",
            |_| {},
            None,
            Some(AuditRefusal::AuditingUnit),
        ),
        (
            "no telephone",
            |p| p.auditing_unit_phone = "  ".into(),
            it,
            Some(AuditRefusal::MissingField("稽核單位電話")),
        ),
        (
            "no auditors",
            |p| p.auditors.clear(),
            it,
            Some(AuditRefusal::AuditorsRequired),
        ),
        (
            "an auditor twice",
            |p| p.auditors = vec![IT_ADMIN, IT_ADMIN],
            it,
            Some(AuditRefusal::AuditorsRequired),
        ),
        (
            "no cases",
            |p| p.cases = 0,
            it,
            Some(AuditRefusal::CaseCount),
        ),
        (
            "too many cases",
            |p| p.cases = MAX_CASES + 1,
            it,
            Some(AuditRefusal::CaseCount),
        ),
    ];
    for (name, edit, kind, want) in table {
        let mut p = plan();
        edit(&mut p);
        let people: Vec<Person> = p
            .auditors
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|_| admin.clone())
            .collect();
        assert_eq!(check_plan(&p, kind, &people).err(), want, "{name}");
    }
    let mut p = plan();
    p.auditors = vec![CLERK];
    assert_eq!(
        check_plan(&p, it, std::slice::from_ref(&clerk)),
        Err(AuditRefusal::AuditorWithoutRole)
    );
}

#[test]
fn nobody_audits_themselves_their_own_units_approvals_or_a_case_they_approved() {
    let sa = unit("social-assistance");
    let mut approved_by_admin = candidate(3, 1);
    approved_by_admin.approvers = vec![IT_ADMIN];
    approved_by_admin.approving_unit = unit("elderly-welfare");
    let mut approved_in_ethics = candidate(4, 1);
    approved_in_ethics.approving_unit = unit("ethics");
    type Row = (
        &'static str,
        Vec<(PersonId, UnitId)>,
        Vec<Candidate>,
        Option<AuditRefusal>,
    );
    let table: Vec<Row> = vec![
        (
            "auditors from elsewhere",
            vec![(IT_ADMIN, unit("it-group")), (ETHICS, unit("ethics"))],
            vec![candidate(1, 1), candidate(2, 1)],
            None,
        ),
        (
            "the querier audits herself",
            vec![(QUERIER, unit("it-group"))],
            vec![candidate(1, 1)],
            Some(AuditRefusal::AuditsThemselves),
        ),
        (
            "an auditor of the querier's unit",
            vec![(CLERK, sa.clone())],
            vec![candidate(1, 1)],
            Some(AuditRefusal::OwnUnit),
        ),
        (
            "a case approved by the auditor's unit",
            vec![(ETHICS, unit("ethics"))],
            vec![candidate(1, 1), approved_in_ethics],
            Some(AuditRefusal::OwnUnit),
        ),
        (
            "a case the auditor approved",
            vec![(IT_ADMIN, unit("it-group"))],
            vec![candidate(1, 1), approved_by_admin],
            Some(AuditRefusal::ApprovedCase),
        ),
    ];
    for (name, people, candidates, want) in table {
        assert_eq!(
            check_parties(&people, QUERIER, &sa, &candidates).err(),
            want,
            "{name}"
        );
    }
}

#[test]
fn the_same_seed_draws_the_same_sample_whatever_order_the_candidates_come_in() {
    let candidates: Vec<Candidate> = (1..=40).map(|i| candidate(i, 1)).collect();
    let mut reversed = candidates.clone();
    reversed.reverse();
    for seed in [0, 1, 42, u64::MAX] {
        let a = draw_sample(&candidates, 5, SamplingMethod::Uniform, seed);
        let b = draw_sample(&reversed, 5, SamplingMethod::Uniform, seed);
        assert_eq!(a, b, "seed {seed}");
        assert_eq!(a.len(), 5);
        let distinct: BTreeSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), 5, "no case drawn twice");
    }
    assert_ne!(
        draw_sample(&candidates, 5, SamplingMethod::Uniform, 1),
        draw_sample(&candidates, 5, SamplingMethod::Uniform, 2),
        "another seed, another sample"
    );
}

#[test]
fn a_recorded_draw_repeats_from_its_candidates_and_seed_and_a_changed_one_does_not() {
    let candidates: Vec<(RegistrationId, u32)> =
        (1..=20).map(|i| (RegistrationId::new(i), 1)).collect();
    let mut a = audit(AuditState::Documents);
    a.candidates = candidates.clone();
    a.seed = 99;
    let drawn = draw(&candidates, 2, SamplingMethod::Uniform, 99);
    for (i, r) in drawn.iter().enumerate() {
        a.cases[i].registration = *r;
    }
    assert!(draw_repeats(&a));
    // A case swapped for another, or another seed claimed: the check fails.
    let mut swapped = a.clone();
    swapped.cases[0].registration = RegistrationId::new(
        (1..=20)
            .find(|i| !drawn.contains(&RegistrationId::new(*i)))
            .unwrap(),
    );
    assert!(!draw_repeats(&swapped));
    let mut reseeded = a.clone();
    reseeded.seed = 100;
    assert_ne!(draw(&candidates, 2, SamplingMethod::Uniform, 100), drawn);
    assert!(!draw_repeats(&reseeded));
}

#[test]
fn a_draw_larger_than_the_candidates_takes_them_all_and_none_twice() {
    let candidates: Vec<Candidate> = (1..=3).map(|i| candidate(i, 1)).collect();
    let mut got = draw_sample(&candidates, 10, SamplingMethod::Uniform, 9);
    got.sort();
    assert_eq!(
        got,
        vec![
            RegistrationId::new(1),
            RegistrationId::new(2),
            RegistrationId::new(3)
        ]
    );
    assert!(draw_sample(&[], 3, SamplingMethod::Uniform, 9).is_empty());
}

#[test]
fn a_uniform_draw_gives_every_case_about_the_same_chance() {
    let candidates: Vec<Candidate> = (1..=10).map(|i| candidate(i, 1)).collect();
    let mut hits = BTreeMap::new();
    for seed in 0..2000 {
        for r in draw_sample(&candidates, 1, SamplingMethod::Uniform, seed) {
            *hits.entry(r).or_insert(0u32) += 1;
        }
    }
    assert_eq!(hits.len(), 10);
    for (r, n) in hits {
        assert!((120..=280).contains(&n), "{r:?} drawn {n} times of 2000");
    }
}

#[test]
fn a_weighted_draw_favours_heavy_cases_and_never_draws_weight_zero_before_them() {
    let mut candidates: Vec<Candidate> = (1..=10).map(|i| candidate(i, 0)).collect();
    candidates[2].weight = 9;
    candidates[7].weight = 1;
    let mut heavy_first = 0;
    for seed in 0..1000 {
        let s = draw_sample(&candidates, 2, SamplingMethod::Weighted, seed);
        let set: BTreeSet<_> = s.iter().copied().collect();
        assert_eq!(
            set,
            [RegistrationId::new(3), RegistrationId::new(8)].into(),
            "the two weighted cases come before any weight-0 case (seed {seed})"
        );
        if s[0] == RegistrationId::new(3) {
            heavy_first += 1;
        }
    }
    assert!((820..=970).contains(&heavy_first), "{heavy_first}");
    // With every weight zero the draw is uniform rather than empty.
    let zero: Vec<Candidate> = (1..=4).map(|i| candidate(i, 0)).collect();
    assert_eq!(draw_sample(&zero, 2, SamplingMethod::Weighted, 3).len(), 2);
    let weighted = with_weights(zero, &[(RegistrationId::new(2), 5)].into());
    assert_eq!(
        draw_sample(&weighted, 1, SamplingMethod::Weighted, 11),
        vec![RegistrationId::new(2)]
    );
}

#[test]
fn attachments_are_checked_by_name_size_and_magic_bytes() {
    let pdf = b"%PDF-1.7\n...".to_vec();
    let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
    let exe = b"MZ\x90\x00".to_vec();
    type Row = (
        &'static str,
        &'static str,
        Vec<u8>,
        Result<DocumentKind, AuditRefusal>,
    );
    let table: Vec<Row> = vec![
        ("pdf", "公文.pdf", pdf.clone(), Ok(DocumentKind::Pdf)),
        ("png", "scan.png", png, Ok(DocumentKind::Png)),
        ("jpeg", "photo.JPG", jpeg, Ok(DocumentKind::Jpeg)),
        (
            "a pdf name on an executable",
            "report.pdf",
            exe,
            Err(AuditRefusal::WrongFileType),
        ),
        (
            "text",
            "notes.txt",
            b"hello".to_vec(),
            Err(AuditRefusal::WrongFileType),
        ),
        (
            "unix path",
            "../../etc/passwd.pdf",
            pdf.clone(),
            Err(AuditRefusal::NameWithPath),
        ),
        (
            "windows path",
            "C:\\Users\\a.pdf",
            pdf.clone(),
            Err(AuditRefusal::NameWithPath),
        ),
        (
            "dot dot",
            "..",
            pdf.clone(),
            Err(AuditRefusal::NameWithPath),
        ),
        (
            "empty name",
            "  ",
            pdf.clone(),
            Err(AuditRefusal::BadFileName),
        ),
        (
            "control character",
            "a\nb.pdf",
            pdf.clone(),
            Err(AuditRefusal::BadFileName),
        ),
        (
            "empty file",
            "a.pdf",
            Vec::new(),
            Err(AuditRefusal::EmptyFile),
        ),
        (
            "one byte over",
            "a.pdf",
            [pdf.clone(), vec![0; 21]].concat(),
            Err(AuditRefusal::TooLarge(32)),
        ),
    ];
    for (name, file, bytes, want) in table {
        assert_eq!(
            check_document(file, &bytes, 32).map(|(k, _)| k),
            want,
            "{name}"
        );
    }
    assert_eq!(
        check_document(" 公文.pdf ", &pdf, 32).unwrap().1,
        "公文.pdf"
    );
}

#[test]
fn documents_are_attached_by_the_querier_for_a_sampled_case_until_the_deadline_only() {
    let open = audit(AuditState::Documents);
    let deadline = open.plan.documents_deadline;
    let after = d(115, 4, 21);
    let table = vec![
        ("on the deadline", &open, QUERIER, 10, deadline, Ok(())),
        (
            "the day after",
            &open,
            QUERIER,
            10,
            after,
            Err(AuditRefusal::DeadlinePassed),
        ),
        (
            "by someone else",
            &open,
            IT_ADMIN,
            10,
            deadline,
            Err(AuditRefusal::NotQuerier),
        ),
        (
            "a case not sampled",
            &open,
            QUERIER,
            99,
            deadline,
            Err(AuditRefusal::CaseNotSampled),
        ),
    ];
    for (name, a, by, case, today, want) in table {
        assert_eq!(
            may_attach(a, by, RegistrationId::new(case), today),
            want,
            "{name}"
        );
    }
    let closed = audit(AuditState::Opinions);
    assert_eq!(
        may_attach(&closed, QUERIER, RegistrationId::new(10), deadline),
        Err(AuditRefusal::DocumentsClosed)
    );
    let reviewed = audit(AuditState::Reviewed);
    assert_eq!(
        may_attach(&reviewed, QUERIER, RegistrationId::new(10), deadline),
        Err(AuditRefusal::ReadOnly)
    );
    assert_eq!(submit_documents(&open, QUERIER), Ok(AuditState::Opinions));
    assert_eq!(
        submit_documents(&open, IT_ADMIN),
        Err(AuditRefusal::NotQuerier)
    );
    assert_eq!(
        submit_documents(&closed, QUERIER),
        Err(AuditRefusal::DocumentsClosed)
    );
}

#[test]
fn opinions_wait_for_the_documents_and_come_only_from_this_audits_auditors() {
    let open = audit(AuditState::Documents);
    let deadline = open.plan.documents_deadline;
    let after = d(115, 4, 21);
    let r = RegistrationId::new(10);
    assert_eq!(
        may_record_case_opinion(&open, IT_ADMIN, r, deadline),
        Err(AuditRefusal::OpinionsNotOpen),
        "the querier still has time"
    );
    assert_eq!(
        may_record_case_opinion(&open, IT_ADMIN, r, after),
        Ok(AuditState::Opinions)
    );
    assert_eq!(
        may_record_case_opinion(&open, ETHICS, r, after),
        Err(AuditRefusal::NotAssignedAuditor)
    );
    let opinions = audit(AuditState::Opinions);
    assert_eq!(
        may_record_case_opinion(&opinions, IT_ADMIN, RegistrationId::new(99), deadline),
        Err(AuditRefusal::CaseNotSampled)
    );
    assert_eq!(
        may_record_overall(&opinions, IT_ADMIN),
        Err(AuditRefusal::CasesWithoutOpinion)
    );
    let done = opined(opinions);
    assert_eq!(
        may_record_overall(&done, QUERIER),
        Err(AuditRefusal::NotAssignedAuditor)
    );
    assert_eq!(
        may_record_overall(&done, IT_ADMIN),
        Ok(AuditState::SigningOff(SignOffStep::Querier))
    );
    let signing = opined(audit(AuditState::SigningOff(SignOffStep::Querier)));
    assert_eq!(
        may_record_case_opinion(&signing, IT_ADMIN, r, after),
        Err(AuditRefusal::OpinionsNotOpen),
        "no amending once the sign-offs began"
    );
    assert_eq!(
        opinion_text("  "),
        Err(AuditRefusal::MissingField("稽核意見"))
    );
    assert_eq!(
        opinion_text(&"字".repeat(MAX_TEXT_CHARS + 1)),
        Err(AuditRefusal::TextTooLong("稽核意見"))
    );
}

#[test]
fn sign_offs_go_in_form_4_order_each_by_its_own_signer() {
    use SignOffStep::*;
    let s = signers();
    let mut a = opined(audit(AuditState::SigningOff(Querier)));
    let chain = [
        (Querier, QUERIER),
        (Auditor, IT_ADMIN),
        (QuerierSupervisor, SUPERVISOR),
        (AuditingSupervisor, SECRETARIAT_HEAD),
    ];
    for (i, (step, by)) in chain.into_iter().enumerate() {
        // Every later step is out of order now.
        for (later, who) in &chain[i + 1..] {
            assert_eq!(
                sign_off(&a, *later, *who, &s),
                Err(AuditRefusal::SignOffOutOfOrder(step)),
                "{later:?} before {step:?}"
            );
        }
        // Somebody else at the right step is refused.
        assert_eq!(
            sign_off(&a, step, CLERK, &s),
            Err(AuditRefusal::NotSigner),
            "{step:?} by a stranger"
        );
        let next = sign_off(&a, step, by, &s).unwrap();
        a.sign_offs.push(SignOff {
            step,
            by,
            at: jiff::Timestamp::UNIX_EPOCH,
        });
        a.state = next;
    }
    assert_eq!(a.state, AuditState::AwaitingReview);
    let intruder = person(CLERK, "social-work", &[Role::Staff]);
    assert_eq!(director_chair(&intruder), Err(AuditRefusal::NotDirector));
    let chair = director_chair(&person(DIRECTOR, "director", &[Role::Director])).unwrap();
    assert_eq!(review(&a, &chair), Ok(AuditState::Reviewed));
    a.state = AuditState::Reviewed;
    // Read-only from now on, whatever is tried.
    assert_eq!(review(&a, &chair), Err(AuditRefusal::ReadOnly));
    assert_eq!(
        sign_off(&a, Querier, QUERIER, &s),
        Err(AuditRefusal::ReadOnly)
    );
    assert_eq!(
        may_record_overall(&a, IT_ADMIN),
        Err(AuditRefusal::ReadOnly)
    );
    assert_eq!(submit_documents(&a, QUERIER), Err(AuditRefusal::ReadOnly));
}

#[test]
fn the_director_reviews_only_a_fully_signed_record() {
    let chair = director_chair(&person(DIRECTOR, "director", &[Role::Director])).unwrap();
    for state in [
        AuditState::Documents,
        AuditState::Opinions,
        AuditState::SigningOff(SignOffStep::AuditingSupervisor),
    ] {
        assert_eq!(
            review(&audit(state), &chair),
            Err(AuditRefusal::NotAwaitingReview),
            "{state:?}"
        );
    }
    assert_eq!(
        sign_off(
            &audit(AuditState::Opinions),
            SignOffStep::Querier,
            QUERIER,
            &signers()
        ),
        Err(AuditRefusal::NotSigningOff)
    );
}

#[test]
fn a_supervisor_who_audits_or_already_signed_passes_the_step_up_the_tree_or_to_the_director() {
    let mut a = audit(AuditState::SigningOff(SignOffStep::QuerierSupervisor));
    let s = Signers {
        querier_supervisors: vec![IT_ADMIN, SECRETARIAT_HEAD],
        auditing_supervisors: vec![IT_ADMIN],
        director: Some(DIRECTOR),
    };
    assert_eq!(
        designated_signer(&a, SignOffStep::QuerierSupervisor, &s),
        Some(SECRETARIAT_HEAD),
        "the auditor is skipped for the querier's supervisor"
    );
    a.sign_offs.push(SignOff {
        step: SignOffStep::Auditor,
        by: IT_ADMIN,
        at: jiff::Timestamp::UNIX_EPOCH,
    });
    assert_eq!(
        designated_signer(&a, SignOffStep::AuditingSupervisor, &s),
        Some(DIRECTOR),
        "nobody signs twice"
    );
    assert_eq!(
        designated_signer(&a, SignOffStep::Querier, &s),
        Some(QUERIER)
    );
}

#[test]
fn an_audit_is_visible_to_its_parties_the_audit_offices_and_the_director_only() {
    let a = audit(AuditState::Documents);
    let s = signers();
    let table = [
        (person(QUERIER, "social-assistance", &[Role::Querier]), true),
        (
            person(SUPERVISOR, "social-assistance", &[Role::UnitSupervisor]),
            true,
        ),
        (person(ETHICS, "ethics", &[Role::EthicsAuditor]), true),
        (person(DIRECTOR, "director", &[Role::Director]), true),
        (person(CLERK, "social-assistance", &[Role::Querier]), false),
    ];
    for (p, visible) in table {
        assert_eq!(may_read(&a, &p, &s).is_ok(), visible, "{:?}", p.roles);
    }
}

#[test]
fn every_refusal_has_a_distinct_stable_code_and_both_messages() {
    let all = [
        AuditRefusal::NotAuditOffice,
        AuditRefusal::AuditorWithoutRole,
        AuditRefusal::AuditorsRequired,
        AuditRefusal::AuditingUnit,
        AuditRefusal::MissingField("x"),
        AuditRefusal::TextTooLong("x"),
        AuditRefusal::BadDate("x"),
        AuditRefusal::UnknownPerson("x"),
        AuditRefusal::Sampling,
        AuditRefusal::Period,
        AuditRefusal::Deadline,
        AuditRefusal::CaseCount,
        AuditRefusal::NoCases,
        AuditRefusal::AuditsThemselves,
        AuditRefusal::OwnUnit,
        AuditRefusal::ApprovedCase,
        AuditRefusal::NotQuerier,
        AuditRefusal::DocumentsClosed,
        AuditRefusal::DeadlinePassed,
        AuditRefusal::CaseNotSampled,
        AuditRefusal::WrongFileType,
        AuditRefusal::TooLarge(1),
        AuditRefusal::EmptyFile,
        AuditRefusal::NameWithPath,
        AuditRefusal::BadFileName,
        AuditRefusal::NotAssignedAuditor,
        AuditRefusal::OpinionsNotOpen,
        AuditRefusal::CasesWithoutOpinion,
        AuditRefusal::SignOffOutOfOrder(SignOffStep::Auditor),
        AuditRefusal::NotSigningOff,
        AuditRefusal::NotSigner,
        AuditRefusal::NotDirector,
        AuditRefusal::NotAwaitingReview,
        AuditRefusal::ReadOnly,
        AuditRefusal::NotVisible,
    ];
    let codes: BTreeSet<&str> = all.iter().map(AuditRefusal::code).collect();
    assert_eq!(codes.len(), all.len());
    for r in &all {
        assert!(r.code().starts_with("audit."));
        assert!(!r.to_string().is_empty() && !r.message_en().is_empty());
    }
    for s in SignOffStep::ALL {
        assert_eq!(SignOffStep::parse_code(s.code()), Some(s));
    }
    for state in [
        AuditState::Documents,
        AuditState::Opinions,
        AuditState::SigningOff(SignOffStep::QuerierSupervisor),
        AuditState::AwaitingReview,
        AuditState::Reviewed,
    ] {
        assert_eq!(AuditState::parse_code(state.code()), Some(state));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

    /// Whatever the candidates, weights, size and seed: the sample is distinct cases drawn from
    /// the candidates, as many as asked (or all), and the same again from the same seed.
    #[test]
    fn a_sample_is_distinct_candidates_of_the_right_size_and_repeats_from_its_seed(
        weights in proptest::collection::vec(0u32..5, 0..30),
        count in 0usize..40,
        seed in proptest::prelude::any::<u64>(),
        weighted in proptest::prelude::any::<bool>(),
    ) {
        let candidates: Vec<Candidate> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| candidate(i as i64 + 1, *w))
            .collect();
        let method = if weighted { SamplingMethod::Weighted } else { SamplingMethod::Uniform };
        let s = draw_sample(&candidates, count, method, seed);
        proptest::prop_assert_eq!(s.len(), count.min(candidates.len()));
        let distinct: BTreeSet<_> = s.iter().collect();
        proptest::prop_assert_eq!(distinct.len(), s.len());
        proptest::prop_assert!(s.iter().all(|r| candidates.iter().any(|c| c.registration == *r)));
        proptest::prop_assert_eq!(s, draw_sample(&candidates, count, method, seed));
    }
}
