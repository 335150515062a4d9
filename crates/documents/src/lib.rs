//! Printable documents: Forms 1–4 (附表 1–4), the Form 2 register and the quarterly review
//! report, as PDF (A4, Traditional Chinese, embedded subset font) and as HTML.
//!
//! The renderer reads no storage and knows no application rules: the application layer
//! builds a [`DocumentModel`] from its records (who may see what, masking, ROC dates) and
//! hands it here with the [`Footer`]. Each document's layout is a file in `templates/`.
//! Not security-sensitive by itself: whatever reaches a view model is printed.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chart;
mod fields;
pub mod font;
mod html;
mod layout;
pub mod model;
pub mod template;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use fields::{Fields, Value};
pub use font::{DocumentFont, FontError};
pub use layout::Footer;
pub use model::*;
pub use template::DocumentKind;

/// Why a document could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Font(#[from] FontError),
    /// A template names a field the view model lacks (a programming error, caught by the
    /// golden tests).
    #[error("文件範本錯誤：{0}")]
    Template(String),
    #[error("PDF 產製失敗：{0}")]
    Pdf(String),
}

impl RenderError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Font(e) => e.code(),
            Self::Template(_) => "documents.template",
            Self::Pdf(_) => "documents.pdf",
        }
    }
}

/// The document as PDF bytes.
pub fn render_pdf(
    font: &DocumentFont,
    doc: &DocumentModel,
    footer: &Footer,
) -> Result<Vec<u8>, RenderError> {
    let template = doc.kind().template()?;
    layout::render(font, &template, &doc.fields(), footer)
}

/// How many pages the PDF of `doc` has.
pub fn page_count(font: &DocumentFont, doc: &DocumentModel) -> Result<usize, RenderError> {
    let template = doc.kind().template()?;
    layout::page_count(font, &template, &doc.fields())
}

/// The document as an HTML fragment (no font needed).
pub fn render_html(doc: &DocumentModel, footer: &Footer) -> Result<String, RenderError> {
    let template = doc.kind().template()?;
    html::render(&template, &doc.fields(), footer)
}
