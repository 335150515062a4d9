//! Typed input of the documents area: the `{form}/{id}` path and the register's query, each
//! turned into the use case's [`DocumentTarget`] at the edge. A path that names no document
//! yields `None`, which the handlers refuse (audited) as not found.

use querywarden_app::citizen_report::CitizenRequestNo;
use querywarden_app::documents::{DocumentTarget, parse_quarter};
use querywarden_domain::org::UnitId;
use querywarden_domain::oversight::unannounced_audit::AuditId;
use querywarden_domain::permission::ApplicationId;
use querywarden_domain::registration::RequestNo;
use querywarden_domain::roc_date::RocDate;
use serde::Deserialize;

/// `/documents/{form}/{id}` as typed in a URL.
#[derive(Deserialize)]
pub struct DocumentPath {
    pub form: String,
    pub id: String,
}

impl DocumentPath {
    /// The page's own path (for the error page's navigation).
    pub fn path(&self) -> String {
        format!("/documents/{}/{}", self.form, self.id)
    }

    /// `form1`…`form4`, `quarterly`, `citizen-letter` and the record's id.
    pub fn target(&self) -> Option<DocumentTarget> {
        let id = self.id.trim();
        Some(match self.form.as_str() {
            "form1" => DocumentTarget::Form1(ApplicationId::new(id.parse().ok()?)),
            "form2" => DocumentTarget::Form2(id.parse().ok()?),
            "form3" => DocumentTarget::Form3(RequestNo::parse(id).ok()?),
            "form4" => DocumentTarget::Form4(AuditId::new(id.parse().ok()?)),
            "quarterly" => DocumentTarget::Quarterly(parse_quarter(id).ok()?),
            "citizen-letter" => DocumentTarget::CitizenLetter(CitizenRequestNo::parse(id).ok()?),
            _ => return None,
        })
    }
}

/// `?reveal=1` on a PDF download: print whole national IDs the viewer may see (each a
/// recorded reveal).
#[derive(Deserialize, Default)]
pub struct RevealQuery {
    #[serde(default)]
    pub reveal: Option<String>,
}

impl RevealQuery {
    pub fn reveal(&self) -> bool {
        self.reveal.as_deref() == Some("1")
    }
}

/// `/documents/register?unit=&from=&to=[&format=pdf]`.
#[derive(Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub format: Option<String>,
}

impl RegisterQuery {
    /// The register's target, or `None` when the unit or a date is no unit or date.
    pub fn target(&self) -> Option<DocumentTarget> {
        Some(DocumentTarget::Register {
            unit: UnitId::new(self.unit.trim().to_string()).ok()?,
            from: RocDate::parse(&self.from).ok()?,
            to: RocDate::parse(&self.to).ok()?,
        })
    }

    pub fn pdf(&self) -> bool {
        self.format.as_deref() == Some("pdf")
    }

    /// The same register as PDF.
    pub fn pdf_href(&self, from: RocDate, to: RocDate) -> String {
        format!(
            "/documents/register?unit={}&from={}&to={}&format=pdf",
            self.unit.trim(),
            from.format_short(),
            to.format_short()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(form: &str, id: &str) -> DocumentPath {
        DocumentPath {
            form: form.into(),
            id: id.into(),
        }
    }

    #[test]
    fn a_path_names_a_document_only_with_a_known_form_and_a_well_formed_id() {
        assert!(path("form9", "1").target().is_none());
        assert!(path("form1", "abc").target().is_none());
        assert!(path("quarterly", "115Q5").target().is_none());
        assert_eq!(
            path("quarterly", "115Q3").target().map(|t| t.reference()),
            Some("quarterly-2026-Q3".to_string())
        );
        assert_eq!(
            path("citizen-letter", "115-000007")
                .target()
                .map(|t| t.reference()),
            Some("citizen-letter-115-000007".to_string())
        );
        // A citizen request is named by its number, never by anything else typed there.
        assert!(path("citizen-letter", "F131104093").target().is_none());
        assert!(path("citizen-letter", "115-00007").target().is_none());
    }
}
