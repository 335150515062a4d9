//! Golden tests: every document rendered from fixed view models, read back with poppler
//! (`pdftotext -layout`) and compared with the checked-in text in `tests/golden/`; every
//! font embedded (`pdffonts`); a PNG of every page saved in `test-output/` for review.
//!
//! poppler-utils and fonts-noto-cjk are required (scripts/test.sh installs them); a missing
//! tool fails the test rather than skipping it. `UPDATE_GOLDEN=1` rewrites the expected text
//! after a deliberate layout change (review the diff and the PNGs).

#![allow(
    clippy::panic,
    reason = "helpers outside #[test] functions fail the test loudly when a tool is missing"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use querywarden_documents::*;

// The footer, seals and register rows the rendering benchmark draws too.
use querywarden_documents::testing::{self as fixtures, footer, seal};

fn form1() -> DocumentModel {
    DocumentModel::Form1(PermissionApplicationForm {
        form_no: "P-115-000003".into(),
        application_date: "民國 115 年 3 月 5 日".into(),
        unit: "社會救助科".into(),
        title_and_name: "科員 王小明".into(),
        kind: ApplicationKind::New,
        reason: "辦理低收入戶資格審查，需查調申請人之勞保投保資料（社會救助法第 5 條之 1）。"
            .into(),
        national_id: "A12****789".into(),
        phone: "07-3373000 分機 1234".into(),
        email: "wang@example.gov.tw".into(),
        egov_account: "wang0305".into(),
        items: vec!["C0101".into(), "B0301".into(), "X9999".into()],
        applicant: seal("王小明", "資料查詢者", "民國 115 年 3 月 5 日 09:12"),
        applicant_supervisor: seal("陳科長", "申請使用單位主管", "民國 115 年 3 月 5 日 10:40"),
        decision: AdministratorDecision::Approved {
            effective: "民國 115 年 3 月 9 日".into(),
        },
        administrator: seal("林資訊", "權限管理者", "民國 115 年 3 月 6 日 15:20"),
        administrator_supervisor: None,
    })
}

/// Register row `i`, every third one still without its supervisor's seal.
fn register_row(i: usize) -> RegisterRow {
    let approval = if i % 3 == 2 {
        None
    } else {
        seal("陳科長", "單位主管", "115/11/02 10:05")
    };
    fixtures::register_row(i, approval)
}

fn form2(rows: usize) -> DocumentModel {
    DocumentModel::Form2(QueryRegisterForm {
        unit: "社會救助科".into(),
        period: "民國 115 年 11 月 1 日至 11 月 30 日".into(),
        rows: (0..rows).map(register_row).collect(),
    })
}

fn form3() -> DocumentModel {
    DocumentModel::Form3(ExternalRequestForm {
        request_no: "X-115-000004".into(),
        requesting_unit: "高雄市鳳山區公所".into(),
        date: "民國 115 年 10 月 14 日".into(),
        applicant: "黃承辦".into(),
        title: "課員".into(),
        phone: "07-7422111".into(),
        fax: "07-7422112".into(),
        reason: "依社會救助法第 5 條之 1 審核中低收入戶申請案，需確認家庭成員之工作收入。".into(),
        items: "C0101 被保險人投保資料".into(),
        subjects: vec![
            RequestSubject {
                name: "蔡○明".into(),
                id: "S12****001".into(),
            },
            RequestSubject {
                name: "蔡○如".into(),
                id: "S22****002".into(),
            },
        ],
        review_opinion: "法令依據及關聯性已釋明，同意受理，由本科資料查詢者協助查調。".into(),
        applicant_seal: seal("黃承辦", "申請人", "民國 115 年 10 月 14 日 09:00"),
        querier_seal: seal("王小明", "資料查詢者", "民國 115 年 10 月 15 日 11:30"),
        applicant_supervisor_seal: seal(
            "鄭課長",
            "申請人單位主管",
            "民國 115 年 10 月 14 日 10:10",
        ),
        using_unit_supervisor_seal: None,
    })
}

fn form4() -> DocumentModel {
    DocumentModel::Form4(AuditRecordForm {
        audit_no: "A-115-000002".into(),
        period_from: "民國 115 年 7 月 1 日".into(),
        period_to: "民國 115 年 9 月 30 日".into(),
        audit_date: "民國 115 年 10 月 20 日".into(),
        querier: "王小明（社會救助科）".into(),
        auditing_unit: "秘書室資訊小組、政風室".into(),
        auditing_phone: "07-3343259".into(),
        auditor: "林資訊".into(),
        documents_deadline: "民國 115 年 10 月 27 日".into(),
        cases: vec![
            AuditCase {
                reference: "登記 115-000120".into(),
                date: "115/07/03".into(),
                items: "C0101".into(),
                documents: "已附".into(),
            },
            AuditCase {
                reference: "登記 115-000187".into(),
                date: "115/08/19".into(),
                items: "B0101、B0201".into(),
                documents: "未附".into(),
            },
        ],
        opinion: "抽查案件均有登記及主管核可；一案查調文件逾期未附，請於十日內提具檢討報告。"
            .into(),
        querier_seal: seal("王小明", "資料查詢者", "民國 115 年 10 月 21 日 09:30"),
        auditor_seal: seal("林資訊", "稽核人員", "民國 115 年 10 月 20 日 16:00"),
        using_unit_supervisor_seal: None,
        auditing_unit_supervisor_seal: None,
        director_review: None,
    })
}

fn quarterly() -> DocumentModel {
    DocumentModel::Quarterly(QuarterlyReport {
        quarter: "民國 115 年第 3 季".into(),
        period: "民國 115 年 7 月 1 日至 9 月 30 日".into(),
        reviewer: "林資訊（權限管理者）".into(),
        reviewed_at: "民國 115 年 10 月 3 日 10:00".into(),
        item_counts: vec![
            CountRow {
                name: "C0101 被保險人投保資料".into(),
                count: 48,
            },
            CountRow {
                name: "B0101 給付簡要資料".into(),
                count: 12,
            },
            CountRow {
                name: "N0101 國民年金給付資料".into(),
                count: 0,
            },
        ],
        unit_counts: vec![
            CountRow {
                name: "社會救助科".into(),
                count: 41,
            },
            CountRow {
                name: "身心障礙福利科".into(),
                count: 19,
            },
        ],
        reconciliation: "勞保局使用紀錄 60 筆，與本系統登記 60 筆逐筆相符，無未登記之查調。".into(),
        findings: vec![ReportFinding {
            finding: "同一查詢者於 8 月 19 日查調同一當事人 3 次。".into(),
            conclusion: "經查係申請案補件，屬正當查調，結案。".into(),
        }],
        violations: vec![ReportViolation {
            case: "V-115-000001 查調文件逾期未附".into(),
            status: "已於 115/10/29 提出檢討報告，結案".into(),
        }],
        conclusion: "本季使用情形符合本要點規定。".into(),
        checkpoint: Some(CheckpointInfo {
            tree_size: 5120,
            root_hash: "3f9a2c41d07e5b8a9c0d1e2f3a4b5c6d7e8f90112233445566778899aabbccdd".into(),
            key_id: "querywarden+9c1e22af".into(),
            signature: "nC3q6Fh0m1mJmQ8wY2m0q3l7v0eVbq1yFj3H5rJ0GZ2pQk1fS8t7u6v5w4x3y2z1A0B9C8D7E6F5G4H3I2J1KA==".into(),
            signed_at: "民國 115 年 10 月 3 日 09:58".into(),
        }),
    })
}

fn citizen_letter() -> DocumentModel {
    let entry = |seq: u64, at: &str, what: &str, outcome: &str| LetterEntry {
        seq,
        at: at.into(),
        what: format!("{what}\n115-000012"),
        by: "社會救助科".into(),
        basis: "social-assistance-44-3-1（115社助字第88號）".into(),
        items: "C0101".into(),
        outcome: outcome.into(),
    };
    DocumentModel::CitizenLetter(CitizenReplyLetter {
        request_no: "115-000007".into(),
        letter_date: "民國 115 年 11 月 26 日".into(),
        received_on: "民國 115 年 11 月 20 日".into(),
        due_on: "民國 115 年 12 月 11 日".into(),
        subject_id: "F13****093".into(),
        asked: "本人勞保資料被查調之紀錄".into(),
        entries: vec![
            entry(412, "民國 115 年 11 月 3 日 09:12", "查調登記", "完成"),
            entry(415, "民國 115 年 11 月 3 日 10:40", "查調登記", "完成"),
            entry(420, "民國 115 年 11 月 3 日 14:05", "查調執行", "完成"),
        ],
        tree_size: 5120,
        root_hash: "3f9a2c41d07e5b8a9c0d1e2f3a4b5c6d7e8f90112233445566778899aabbccdd".into(),
        officer: seal(
            "張淑惠",
            "個人資料保護聯絡窗口",
            "民國 115 年 11 月 26 日 15:30",
        ),
    })
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is required (apt-get install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders `doc`, checks fonts and text, writes PNGs; returns the page count.
fn golden(name: &str, doc: &DocumentModel) -> usize {
    let font = font::load_cached(None).unwrap_or_else(|e| panic!("{e}"));
    let pdf = render_pdf(&font, doc, &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(pdf.starts_with(b"%PDF-"));
    let out_dir = root().join("test-output/documents");
    std::fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("{e}"));
    let pdf_path = out_dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf_path, &pdf).unwrap_or_else(|e| panic!("{e}"));
    let p = pdf_path.to_string_lossy().into_owned();

    // pdffonts: a header of two lines, then one line per font with "emb" yes/no.
    let fonts = tool("pdffonts", &[&p]);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "{name}: no fonts listed:\n{fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type [subtype] encoding emb sub uni object ID: emb is the 5th from the end.
        let emb = cols.get(cols.len().saturating_sub(5)).copied();
        assert_eq!(emb, Some("yes"), "{name}: a font is not embedded:\n{fonts}");
    }

    let text = tool("pdftotext", &["-layout", &p, "-"]);
    let expected_path = root().join(format!("crates/documents/tests/golden/{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &text).unwrap_or_else(|e| panic!("{e}"));
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 once)",
            expected_path.display()
        )
    });
    assert!(
        text == expected,
        "{name}: pdftotext output differs from {}\n--- got ---\n{text}",
        expected_path.display()
    );

    let prefix = out_dir.join(name).to_string_lossy().into_owned();
    tool("pdftoppm", &["-png", "-r", "60", &p, &prefix]);
    page_count(&font, doc).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn form1_prints_the_application_with_its_sign_off_chain() {
    assert_eq!(golden("form1", &form1()), 1);
}

#[test]
fn form2_register_prints_ten_numbered_rows_a_page_and_pads_the_last() {
    assert_eq!(golden("form2_register", &form2(13)), 2);
}

#[test]
fn form2_single_registration_prints_one_sheet() {
    assert_eq!(golden("form2_single", &form2(1)), 1);
}

#[test]
fn form3_prints_the_subject_list_and_every_sign_off() {
    assert_eq!(golden("form3", &form3()), 1);
}

#[test]
fn form4_prints_the_sampled_cases_in_order() {
    assert_eq!(golden("form4", &form4()), 1);
}

#[test]
fn quarterly_report_prints_counts_findings_and_the_checkpoint() {
    assert!(golden("quarterly_report", &quarterly()) >= 1);
    let expected =
        std::fs::read_to_string(root().join("crates/documents/tests/golden/quarterly_report.txt"))
            .unwrap_or_else(|e| panic!("{e}"));
    // The charts are drawn, not typed: no block characters, and each chart's caption and the
    // tables' shares are text.
    assert!(!expected.contains('█'));
    for text in [
        "各查調項目查調筆數（單位：筆）",
        "各單位查調筆數（單位：筆）",
        "80.0%",
        "31.7%",
    ] {
        assert!(expected.contains(text), "missing {text}");
    }
}

/// A greyscale page as pdftoppm renders it: width, height and one byte per pixel.
struct Greyscale {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// Parses a binary PGM (P5, maxval 255), the format of `pdftoppm -gray`.
fn pgm(bytes: &[u8]) -> Greyscale {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "not a binary PGM");
    assert_eq!(fields[3], "255");
    let width: usize = fields[1].parse().unwrap_or_else(|e| panic!("{e}"));
    let height: usize = fields[2].parse().unwrap_or_else(|e| panic!("{e}"));
    let pixels = bytes[at + 1..].to_vec();
    assert_eq!(pixels.len(), width * height);
    Greyscale {
        width,
        height,
        pixels,
    }
}

/// Every page of `doc` rendered in grey at `dpi`.
fn pages_in_grey(doc: &DocumentModel, dpi: u32) -> Vec<Greyscale> {
    let font = font::load_cached(None).unwrap_or_else(|e| panic!("{e}"));
    let pdf = render_pdf(&font, doc, &footer()).unwrap_or_else(|e| panic!("{e}"));
    let pages = page_count(&font, doc).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("report.pdf");
    std::fs::write(&p, pdf).unwrap_or_else(|e| panic!("{e}"));
    (1..=pages)
        .map(|n| {
            let prefix = dir.path().join(format!("page{n}"));
            let page = n.to_string();
            tool(
                "pdftoppm",
                &[
                    "-gray",
                    "-r",
                    &dpi.to_string(),
                    "-f",
                    &page,
                    "-l",
                    &page,
                    "-singlefile",
                    &p.to_string_lossy(),
                    &prefix.to_string_lossy(),
                ],
            );
            let file = prefix.with_extension("pgm");
            pgm(&std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
        })
        .collect()
}

/// A drawn bar, found in the picture: how long and how thick, in pixels.
#[derive(Debug)]
struct DrawnBar {
    length: usize,
    thickness: usize,
}

/// The bars drawn on the pages, top to bottom: bands of rows that each hold a long run of
/// the bars' grey (luma 96). Text, rules, the grid and the label boxes are black, light grey
/// or anti-aliased in short runs, so only bars qualify.
fn bars_drawn(pages: &[Greyscale]) -> Vec<DrawnBar> {
    let is_bar_grey = |v: u8| (84..=108).contains(&v);
    let mut bars = Vec::new();
    for page in pages {
        let mut current: Option<DrawnBar> = None;
        for y in 0..page.height {
            let row = &page.pixels[y * page.width..(y + 1) * page.width];
            let mut longest = 0;
            let mut run = 0;
            for &v in row {
                run = if is_bar_grey(v) { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            if longest >= 20 {
                let bar = current.get_or_insert(DrawnBar {
                    length: 0,
                    thickness: 0,
                });
                bar.length = bar.length.max(longest);
                bar.thickness += 1;
            } else if let Some(bar) = current.take() {
                bars.push(bar);
            }
        }
        bars.extend(current);
        // A band a few rows thin is an anti-aliased rule, not a bar.
        bars.retain(|b| b.thickness >= 4);
    }
    bars
}

fn with_counts(items: &[(&str, u64)], units: &[(&str, u64)]) -> DocumentModel {
    let rows = |counts: &[(&str, u64)]| {
        counts
            .iter()
            .map(|(name, count)| CountRow {
                name: (*name).into(),
                count: *count,
            })
            .collect()
    };
    let mut doc = quarterly();
    if let DocumentModel::Quarterly(r) = &mut doc {
        r.item_counts = rows(items);
        r.unit_counts = rows(units);
    }
    doc
}

/// Asserts one bar per non-zero count, in order, each as long as its count on one scale
/// (all `values` share an axis ending at the same mark) and as thick as a bar.
fn assert_bars_in_proportion(bars: &[DrawnBar], values: &[u64], dpi: u32) {
    let drawn: Vec<u64> = values.iter().copied().filter(|v| *v > 0).collect();
    assert_eq!(
        bars.len(),
        drawn.len(),
        "one bar per non-zero count: {bars:?}"
    );
    let per_unit = bars[0].length as f64 / drawn[0] as f64;
    for (bar, value) in bars.iter().zip(&drawn) {
        let expected = per_unit * *value as f64;
        assert!(
            (bar.length as f64 - expected).abs() <= expected * 0.02 + 2.0,
            "a bar for {value} is {} px long, expected about {expected:.0}: {bars:?}",
            bar.length
        );
        // 11 pt thick, give or take the anti-aliased edge rows.
        let thickness = 11.0 * dpi as f64 / 72.0;
        assert!(
            (bar.thickness as f64 - thickness).abs() <= 2.0,
            "a bar is {} px thick, expected about {thickness:.0}",
            bar.thickness
        );
    }
}

#[test]
fn quarterly_report_draws_a_bar_twice_as_long_for_twice_the_count() {
    let doc = with_counts(
        &[
            ("C0101 被保險人投保資料", 40),
            ("B0101 給付簡要資料", 20),
            ("B0201 給付明細資料", 10),
        ],
        &[],
    );
    let bars = bars_drawn(&pages_in_grey(&doc, 144));
    assert_bars_in_proportion(&bars, &[40, 20, 10], 144);
    let ratio = bars[0].length as f64 / bars[1].length as f64;
    assert!((ratio - 2.0).abs() < 0.04, "40 against 20 drew {ratio:.3}");
}

#[test]
fn quarterly_report_draws_one_bar_per_counted_item_and_unit_on_its_scale() {
    // Items 48, 12, 0 and units 41, 19: both axes end at 50, so one pixel per query holds
    // for all four bars, and the zero draws none.
    let bars = bars_drawn(&pages_in_grey(&quarterly(), 144));
    assert_bars_in_proportion(&bars, &[48, 12, 0, 41, 19], 144);
}

#[test]
fn quarterly_report_without_queries_draws_no_bars_and_says_so() {
    let doc = with_counts(&[], &[]);
    assert!(bars_drawn(&pages_in_grey(&doc, 72)).is_empty());
    let html = render_html(&doc, &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!html.contains("<svg"));
    assert!(html.contains("本季無查調紀錄"));
}

#[test]
fn html_view_draws_the_same_bars_as_svg_with_their_figures() {
    let html = render_html(&quarterly(), &footer()).unwrap_or_else(|e| panic!("{e}"));
    // Saved next to the PNGs for review in a browser.
    let out_dir = root().join("test-output/documents");
    std::fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        out_dir.join("quarterly_report.html"),
        format!("<!doctype html><meta charset=\"utf-8\"><body>{html}</body>"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!html.contains('█'));
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("role=\"img\""));
    assert!(html.contains("<desc id=\"chart-item_counts-desc\">C0101 被保險人投保資料：48；B0101 給付簡要資料：12；N0101 國民年金給付資料：0</desc>"));
    assert!(html.contains("<figcaption>圖 2　各單位查調筆數（單位：筆）</figcaption>"));
    // Each bar's width over its count is one scale for the whole chart (both end at 50).
    let bars: Vec<(f64, f64)> = html
        .split("<rect class=\"bar\" ")
        .skip(1)
        .map(|rect| {
            let attr = |name: &str| -> f64 {
                let start = rect
                    .find(&format!("{name}=\""))
                    .unwrap_or_else(|| panic!("{name}"))
                    + name.len()
                    + 2;
                let end = start + rect[start..].find('"').unwrap_or_else(|| panic!("{name}"));
                rect[start..end]
                    .parse()
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
            };
            (attr("width"), attr("data-value"))
        })
        .collect();
    assert_eq!(
        bars.iter().map(|b| b.1).collect::<Vec<_>>(),
        vec![48.0, 12.0, 41.0, 19.0]
    );
    let per_unit = bars[0].0 / bars[0].1;
    for (width, value) in &bars {
        assert!((width - per_unit * value).abs() < 0.2, "{bars:?}");
    }
    // The table next to each chart holds the same figures as text.
    assert!(html.contains(">48</td>") && html.contains(">80.0%</td>"));
}

#[test]
fn html_chart_labels_are_escaped() {
    let doc = with_counts(&[("<script>alert(1)</script>", 3)], &[]);
    let html = render_html(&doc, &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn citizen_letter_prints_the_decision_the_entries_and_the_checkpoint() {
    assert_eq!(golden("citizen_letter", &citizen_letter()), 1);
}

#[test]
fn citizen_letter_without_entries_says_so() {
    let mut letter = citizen_letter();
    if let DocumentModel::CitizenLetter(l) = &mut letter {
        l.entries.clear();
    }
    let html = render_html(&letter, &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(html.contains("經查本局無查調台端勞保資料之紀錄"));
    assert!(html.contains("本局無查調台端勞保資料之紀錄"));
}

#[test]
fn chinese_labels_come_back_as_text() {
    let font = font::load_cached(None).unwrap_or_else(|e| panic!("{e}"));
    let pdf = render_pdf(&font, &form1(), &footer()).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("f.pdf");
    std::fs::write(&p, pdf).unwrap_or_else(|e| panic!("{e}"));
    let text = tool("pdftotext", &[&p.to_string_lossy(), "-"]);
    for label in [
        "資料查詢者權限申請表",
        "申請使用單位主管核章",
        "電子簽核",
        "第 1 頁／共 1 頁",
        "■ 新增權限",
    ] {
        assert!(text.contains(label), "missing {label} in:\n{text}");
    }
    // The masked ID is printed as given: the renderer never sees a whole one it was not given.
    assert!(text.contains("A12****789"));
}

#[test]
fn html_view_holds_the_same_labels_escaped() {
    let html = render_html(&form3(), &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(html.contains("查調資料申請表"));
    assert!(html.contains("姓名：蔡○明　ID：S12****001"));
    assert!(html.contains("rowspan=\"1\""));
    let mut evil = form3();
    if let DocumentModel::Form3(f) = &mut evil {
        f.reason = "<script>alert(1)</script>".into();
    }
    let html = render_html(&evil, &footer()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_missing_configured_font_is_a_clear_error_naming_the_package() {
    let e = font::load_cached(Some(Path::new("/nonexistent/font.ttc")))
        .err()
        .unwrap_or_else(|| panic!("a missing font must fail"));
    assert_eq!(e.code(), "documents.font_unreadable");
    assert!(
        font::FontError::NotFound
            .to_string()
            .contains("fonts-noto-cjk")
    );
}
