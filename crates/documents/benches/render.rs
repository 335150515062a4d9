//! Rendering speed (BENCHMARKS.md): a 100-page Form 2 register (1,000 rows, ten a page) under
//! 2 s, and the first document after start-up — reading the font file, then Form 1 — under
//! 1 s. Needs fonts-noto-cjk (or QUERYWARDEN_DOCUMENTS_FONT naming a font file).

#![allow(
    clippy::panic,
    reason = "a benchmark that cannot set itself up should stop"
)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use querywarden_documents::*;

use querywarden_documents::testing::{self as fixtures, footer, register_row};

/// The unit head's seal on every row and form the benchmark renders.
fn seal() -> Option<Seal> {
    fixtures::seal("陳科長", "單位主管", "115/11/02 10:05")
}

fn register(rows: usize) -> DocumentModel {
    DocumentModel::Form2(QueryRegisterForm {
        unit: "社會救助科".into(),
        period: "民國 115 年 1 月 1 日至 12 月 31 日".into(),
        rows: (0..rows).map(|i| register_row(i, seal())).collect(),
    })
}

fn form1() -> DocumentModel {
    DocumentModel::Form1(PermissionApplicationForm {
        form_no: "115-000003".into(),
        application_date: "民國 115 年 3 月 5 日".into(),
        unit: "社會救助科".into(),
        title_and_name: "科員 王小明".into(),
        kind: ApplicationKind::New,
        reason: "辦理低收入戶資格審查。".into(),
        national_id: "A12****789".into(),
        phone: "07-3373000".into(),
        email: "wang@example.gov.tw".into(),
        egov_account: "wang0305".into(),
        items: vec!["C0101".into()],
        applicant: seal(),
        applicant_supervisor: seal(),
        decision: AdministratorDecision::Pending,
        administrator: None,
        administrator_supervisor: None,
    })
}

fn font_path() -> PathBuf {
    std::env::var_os("QUERYWARDEN_DOCUMENTS_FONT")
        .map(PathBuf::from)
        .or_else(|| font::locate(None).ok())
        .unwrap_or_else(|| panic!("{}", FontError::NotFound))
}

fn benches(c: &mut Criterion) {
    let path = font_path();
    let loaded = DocumentFont::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let doc = register(1000);
    assert_eq!(page_count(&loaded, &doc).ok(), Some(100));
    let mut g = c.benchmark_group("documents");
    g.sample_size(10);
    g.bench_function("form2_register_100_pages", |b| {
        b.iter(|| black_box(render_pdf(&loaded, &doc, &footer())))
    });
    let f1 = form1();
    g.bench_function("first_document_after_start", |b| {
        b.iter(|| {
            let font = DocumentFont::load(&path).unwrap_or_else(|e| panic!("{e}"));
            black_box(render_pdf(&font, &f1, &footer()))
        })
    });
    g.finish();
}

criterion_group!(documents, benches);
criterion_main!(documents);
