//! `querywarden id check` on every example we could find.
//!
//! Sources of the examples and the rule:
//! - `A123456789`: the textbook example used throughout Taiwanese programming tutorials of the
//!   內政部 check-digit rule (letter value split into two digits, weights 1 9 8 7 6 5 4 3 2 1 1,
//!   sum divisible by 10).
//! - The project's reference list `tests/data/taiwan-ids.json` (copied from the shared
//!   test data; each entry checked against the official rule), covering all three kinds: the
//!   national ID, the old two-letter 居留證 number, and the 2021 統一證號 (移民署, 2021-01-02:
//!   second character 8 for men, 9 for women).

use querywarden_testkit::binary::{run, stdout};

fn examples() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../domain/tests/data/taiwan-ids.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    (list("valid"), list("invalid"))
}

#[test]
fn every_valid_example_is_accepted_masked_and_classified() {
    let (valid, _) = examples();
    assert!(valid.len() >= 10);
    for id in &valid {
        let o = run(&["id", "check", id]);
        let out = stdout(&o);
        assert!(o.status.success(), "{id}: {out}");
        let masked = format!("{}****{}", &id[..3], &id[7..]);
        assert!(out.contains(&masked), "{out}");
        assert!(!out.contains(id.as_str()), "whole number printed: {out}");
        let kind = match id.as_bytes()[1] {
            b'1' | b'2' => "citizen",
            b'8' | b'9' => "resident_new",
            _ => "resident_old",
        };
        assert!(out.contains(kind), "{id} should be {kind}: {out}");
    }
}

#[test]
fn every_invalid_example_is_refused_with_its_reason() {
    let (_, invalid) = examples();
    assert!(invalid.len() >= 10);
    for id in &invalid {
        let o = run(&["id", "check", id]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{id}: {out}");
        assert!(out.contains("national_id."), "{id}: {out}");
    }
}

#[test]
fn each_rule_is_named() {
    for (input, code) in [
        ("A12345678", "national_id.length"),
        ("1123456789", "national_id.first_letter"),
        ("A323456789", "national_id.second_char"),
        ("A1234567X9", "national_id.not_digit"),
        ("A123456788", "national_id.check_digit"),
        ("AE01234567", "national_id.second_char"),
    ] {
        let out = stdout(&run(&["id", "check", input]));
        assert!(out.contains(code), "{input}: {out}");
    }
}

#[test]
fn one_bad_number_among_good_ones_fails_the_whole_run() {
    let o = run(&["id", "check", "A123456789", "A123456788", "AC01234567"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .contains("national_id.check_digit")
    );
}

#[test]
fn lower_case_and_spaces_are_normalised() {
    let o = run(&["id", "check", " a123456789 "]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("A12****789"));
}
