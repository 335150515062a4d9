//! The `batch_csv` and `staff_csv` fuzz targets' entries run on the normal test suite, on
//! stable, so that they cannot rot between fuzzing runs: every file of each target's corpus
//! is read, and the named seeds give the lines, subjects and errors the imports act on.

use std::path::PathBuf;

use querywarden_app::permission::staff::read_staff_file_against_fixture;
use querywarden_app::registration::read_batch_lines;

fn corpus(target: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                // As the fuzz targets read them: the uploads are decoded before parsing.
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    files.sort();
    assert!(
        files.iter().any(|(n, _)| n.starts_with("seed-")),
        "{target}: the seeds are missing"
    );
    files
}

fn seed(target: &str, name: &str) -> String {
    corpus(target)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{target}/{name} missing"))
        .1
}

#[test]
fn every_batch_corpus_file_is_read_and_the_seeds_give_their_lines() {
    let read = corpus("batch_csv")
        .iter()
        .filter(|(_, text)| read_batch_lines(text).is_ok())
        .count();
    assert!(read >= 1);

    let lines = read_batch_lines(&seed("batch_csv", "seed-1.csv")).unwrap();
    // The header (after the BOM) and the blank line are skipped; line numbers are the file's.
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [2, 3, 5]);
    let first = lines[0].1.as_ref().unwrap();
    assert_eq!(first.name(), "王小明");
    let quoted = lines[1].1.as_ref().unwrap();
    assert_eq!(quoted.name(), "李, 小華");
    assert_eq!(
        lines[2].1.as_ref().unwrap_err().code(),
        "registration.subject_id"
    );

    let broken = read_batch_lines(&seed("batch_csv", "seed-broken-quote.csv")).unwrap_err();
    assert_eq!(broken.line, 3);
}

#[test]
fn every_staff_corpus_file_is_read_and_the_seeds_give_their_rows() {
    let read = corpus("staff_csv")
        .iter()
        .filter(|(_, text)| read_staff_file_against_fixture(text).is_ok())
        .count();
    assert!(read >= 1);

    assert_eq!(
        read_staff_file_against_fixture(&seed("staff_csv", "seed-1.csv")),
        Ok(2)
    );
    let errors =
        read_staff_file_against_fixture(&seed("staff_csv", "seed-bad-rows.csv")).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    // chen.dawen's ID does not end in the digits on record; the short row; the row with a
    // bad ID, an unknown unit, an unknown status and a date out of the window, all four named.
    assert_eq!(lines, [2, 3, 4]);
    assert!(errors[0].reason.contains("身分證統一編號與帳號不符"));
    assert_eq!(errors[1].reason, "欄位數應為 7");
    for why in ["身分證統一編號不正確", "單位不存在", "狀態應為", "生效日期"]
    {
        assert!(errors[2].reason.contains(why), "{}", errors[2].reason);
    }
    assert!(errors.iter().all(|e| !e.reason.contains("B123456780")));
}
