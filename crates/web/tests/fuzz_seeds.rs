//! The `web_*` fuzz targets' entries (`querywarden_web::fuzzing`) run on the normal test
//! suite, on stable, so that they cannot rot between fuzzing runs: every file of each
//! target's corpus goes through every entry the target calls, and the named seeds give the
//! outcome the server gives them (the input a use case takes, or the refusal's stable code).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot read its seeds should stop loudly"
)]

use std::path::PathBuf;

use querywarden_pki::SignatureFormat;
use querywarden_web::fuzzing;

/// The person filing, as the fuzz entries assume.
const FILER: querywarden_domain::org::PersonId = querywarden_domain::org::PersonId::new(1);

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(
        files.iter().filter(|(n, _)| n.starts_with("seed-")).count() >= 3,
        "{target}: the seeds are missing"
    );
    files
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    corpus(target)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{target}/{name} missing"))
        .1
}

#[test]
fn every_registration_corpus_file_goes_through_every_registration_entry() {
    let mut answered = 0;
    for (_, data) in corpus("web_registration") {
        let outcomes = [
            fuzzing::registration_form(&data).is_ok(),
            fuzzing::registration_json(&data).is_ok(),
            fuzzing::registration_batch_json(&data).is_ok(),
            fuzzing::execution_json(&data).is_ok(),
        ];
        answered += outcomes.iter().filter(|ok| **ok).count();
    }
    // The valid seeds (form, JSON, batch, execution) are read by their entry at least.
    assert!(answered >= 4, "only {answered} inputs were read");
}

#[test]
fn the_registration_seeds_read_as_the_server_reads_them() {
    let form = fuzzing::registration_form(&seed("web_registration", "seed-form.txt")).unwrap();
    assert_eq!(form.subject_name, "王小明");
    assert_eq!(form.subject_id, "A123456789");
    assert_eq!(form.purpose.items, ["C0101", "B0201"]);
    assert_eq!(
        form.purpose.querier.resolve(FILER).map(|p| p.get()),
        Some(7)
    );
    // An empty needer is the person filing.
    assert_eq!(
        form.purpose
            .needer
            .map_or(Some(FILER), |c| c.resolve(FILER))
            .map(|p| p.get()),
        Some(1)
    );
    assert_eq!(form.linked_id, None);

    let utf8 = seed("web_registration", "seed-form-invalid-utf8.txt");
    assert_eq!(
        fuzzing::registration_form(&utf8).unwrap_err(),
        "request.invalid_utf8"
    );
    let querier = seed("web_registration", "seed-form-bad-querier.txt");
    assert_eq!(
        fuzzing::registration_form(&querier).unwrap_err(),
        "registration.querier_role"
    );

    let json = fuzzing::registration_json(&seed("web_registration", "seed-json.json")).unwrap();
    assert_eq!(json.purpose.items, ["C0101"]);
    assert_eq!(
        json.purpose.querier.resolve(FILER).map(|p| p.get()),
        Some(7)
    );
    let overflow = seed("web_registration", "seed-json-querier-overflow.json");
    assert_eq!(
        fuzzing::registration_json(&overflow).unwrap_err(),
        "request.malformed"
    );
    let bad_id = seed("web_registration", "seed-json-bad-id.json");
    assert_eq!(
        fuzzing::registration_json(&bad_id).unwrap_err(),
        "registration.subject_id"
    );
    // A form body is not JSON, and a JSON body is not a form with a querier.
    assert!(fuzzing::registration_json(&seed("web_registration", "seed-form.txt")).is_err());

    let batch = seed("web_registration", "seed-batch.json");
    assert_eq!(fuzzing::registration_batch_json(&batch), Ok(2));
    let quote = seed("web_registration", "seed-batch-broken-quote.json");
    assert_eq!(
        fuzzing::registration_batch_json(&quote).unwrap_err(),
        "registration.batch_format@3"
    );

    let execution = seed("web_registration", "seed-execution.json");
    assert_eq!(fuzzing::execution_json(&execution), Ok(Some(2)));
    assert_eq!(fuzzing::execution_json(b"{}"), Ok(None));
    assert_eq!(
        fuzzing::execution_json(br#"{"items":["c0101;DROP"]}"#).unwrap_err(),
        "registration.item_code"
    );
}

#[test]
fn every_request_corpus_file_goes_through_both_form_3_entries() {
    let mut answered = 0;
    for (_, data) in corpus("web_request") {
        answered += usize::from(fuzzing::request_form(&data).is_ok());
        answered += usize::from(fuzzing::request_json(&data).is_ok());
    }
    assert!(answered >= 2, "only {answered} inputs were read");
}

#[test]
fn the_form_3_seeds_read_as_the_server_reads_them() {
    let form = fuzzing::request_form(&seed("web_request", "seed-form.txt")).unwrap();
    assert_eq!(form.declared_subject_count, 2);
    assert_eq!(form.subjects.len(), 2);
    assert_eq!(form.subjects[1].name, "李小華");
    assert_eq!(form.subjects[1].linked_id.as_deref(), Some("A800000014"));
    assert_eq!(form.fax, None);

    let bad = seed("web_request", "seed-form-bad-second-subject.txt");
    assert_eq!(
        fuzzing::request_form(&bad).unwrap_err(),
        "registration.subject_id@2"
    );

    let json = fuzzing::request_json(&seed("web_request", "seed-json.json")).unwrap();
    assert_eq!(json.responsible_unit, "social-assistance");
    assert_eq!(json.subjects[0].national_id, "A123456789");
    let negative = seed("web_request", "seed-json-negative-count.json");
    assert_eq!(
        fuzzing::request_json(&negative).unwrap_err(),
        "request.malformed"
    );
}

#[test]
fn every_sign_in_corpus_file_goes_through_the_sign_in_entry() {
    let read = corpus("web_sign_in")
        .iter()
        .filter(|(_, data)| fuzzing::sign_in_form(data).is_ok())
        .count();
    assert!(read >= 1, "no sign-in form was read");
}

#[test]
fn the_sign_in_seeds_read_as_the_server_reads_them() {
    let cms = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/pki_input/seed-cms-attached.der"),
    )
    .unwrap();
    let f = fuzzing::sign_in_form(&seed("web_sign_in", "seed-pkcs7.txt")).unwrap();
    assert_eq!(f.account, "lin.meiling");
    assert!(matches!(f.format, SignatureFormat::Pkcs7));
    assert_eq!(f.signature, cms);
    // An empty certificate field is no certificate (the CMS carries its own).
    assert_eq!(f.certificate, None);

    for (name, code) in [
        ("seed-bad-format.txt", "login.malformed_format"),
        ("seed-bad-base64.txt", "login.malformed_signature"),
        ("seed-invalid-utf8.txt", "request.invalid_utf8"),
    ] {
        assert_eq!(
            fuzzing::sign_in_form(&seed("web_sign_in", name)).unwrap_err(),
            code,
            "{name}"
        );
    }
    // The account is kept to 64 characters, as the handler keeps it.
    let long = format!("account={}&format=PKCS1&signature=AAAA", "a".repeat(100));
    assert_eq!(
        fuzzing::sign_in_form(long.as_bytes())
            .unwrap()
            .account
            .chars()
            .count(),
        64
    );
}
