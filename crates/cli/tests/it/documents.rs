//! `querywarden forms render` and `report quarterly`: a form is written whole and audited; an
//! unknown id, an unclosed quarter or a missing font exits 1 with a zh-TW message, writes
//! nothing and leaves only a refusal in the audit trail.

use querywarden_testkit::binary::{command as bin, stderr, stdout};
use querywarden_testkit::org::seeded_app;
use querywarden_testkit::rt;

/// A temporary directory whose `data` holds the seeded demo bureau.
fn seeded_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seeded(&data);
    (dir, data)
}

fn seeded(data: &std::path::Path) {
    rt().block_on(async {
        let app = seeded_app(data, |_| {}).await;
        // lin.meiling's and li.guowei's Form 1, approved at every step.
        querywarden_app::demo_grants::grant_demo_queriers(
            app.store(),
            app.keys(),
            &app.config().permission,
            jiff::Timestamp::now(),
            "op",
        )
        .await
        .unwrap();
        app.close().await;
    });
}

/// `account` renders Form 1 of application 1.
fn form1_as(account: &str) -> [&str; 8] {
    [
        "forms", "render", "--form", "1", "--id", "1", "--as", account,
    ]
}

/// `querywarden <args> <flag> <from> --out <out>`.
fn run_out(
    args: &[&str],
    flag: &str,
    from: &std::path::Path,
    out: &std::path::Path,
) -> std::process::Output {
    bin()
        .args(args)
        .arg(flag)
        .arg(from)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn documents_in_trail(data: &std::path::Path) -> String {
    let o = bin()
        .args(["audit", "search", "--action", "report.generated", "--data"])
        .arg(data)
        .output()
        .unwrap();
    stdout(&o)
}

#[test]
fn form1_is_written_whole_and_audited_and_refusals_write_nothing() {
    let (dir, data) = seeded_dir();

    let out = dir.path().join("form1.pdf");
    let o = run_out(&form1_as("wu.zhiming"), "--data", &data, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let pdf = std::fs::read(&out).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    let trail = documents_in_trail(&data);
    assert!(trail.contains("document:form1-1\tsucceeded"), "{trail}");

    // An unknown id: exit 1, a zh-TW message, no file, a refusal in the trail.
    let missing = dir.path().join("missing.pdf");
    let o = run_out(
        &["forms", "render", "--form", "1", "--id", "999"],
        "--data",
        &data,
        &missing,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("找不到此文件所屬的紀錄"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("documents.not_found"));
    assert!(!missing.exists());
    let trail = documents_in_trail(&data);
    assert!(trail.contains("document:form1-999\trefused:"), "{trail}");
    assert!(!trail.contains("document:form1-999\tsucceeded"), "{trail}");

    // Someone not entitled to the application is answered like an unknown id.
    let o = run_out(&form1_as("cai.peiling"), "--data", &data, &missing);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("documents.not_found"), "{}", stderr(&o));
    assert!(!missing.exists());

    // A quarter whose review is not closed.
    let o = run_out(
        &["report", "quarterly", "--quarter", "115Q3"],
        "--data",
        &data,
        &missing,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("尚未結案"), "{}", stderr(&o));
    assert!(stderr(&o).contains("documents.quarter_not_closed"));
    assert!(!missing.exists());
}

#[test]
fn a_missing_font_exits_1_naming_the_package_and_writes_nothing() {
    let (dir, data) = seeded_dir();
    let config = dir.path().join("qw.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndemo = true\n[storage]\ndata_dir = {:?}\n[documents]\nfont_path = \"/nonexistent/NotoSansCJK.ttc\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let out = dir.path().join("form1.pdf");
    let o = run_out(&form1_as("wu.zhiming"), "--config", &config, &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("documents.font_unreadable"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let trail = documents_in_trail(&data);
    assert!(
        trail.contains("refused:documents.font_unreadable"),
        "{trail}"
    );
    assert!(!trail.contains("succeeded"), "{trail}");
}
