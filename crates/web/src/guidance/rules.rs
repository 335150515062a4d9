//! The rules' text as data: parsed from `crates/web/rules/management-rules.txt` (format in its
//! header) into the title, the amendment history, the clauses (一 … 九) and the forms
//! (附表 1–4), each with the anchor the pages link to.

use std::sync::LazyLock;

const SOURCE: &str = include_str!("../../rules/management-rules.txt");

/// A clause of the rules or one of the forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The anchor: `s1` … `s9`, `form1` … `form4`.
    pub anchor: String,
    /// `五` for a clause; the form's heading for a form.
    pub heading: String,
    /// The project's English summary (not part of the rules).
    pub summary_en: String,
    /// Paragraphs of a clause, or fields of a form, as published.
    pub lines: Vec<String>,
}

/// The rules and their forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub title: String,
    pub history: Vec<String>,
    pub clauses: Vec<Section>,
    pub forms: Vec<Section>,
}

/// A line of the rules file that the format does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules file, line {line}: {why}")]
pub struct RulesFormatError {
    pub line: usize,
    pub why: &'static str,
}

static PARSED: LazyLock<Result<Rules, RulesFormatError>> = LazyLock::new(|| Rules::parse(SOURCE));

impl Rules {
    /// The rules shipped with the app, parsed once.
    pub fn get() -> Result<&'static Rules, &'static RulesFormatError> {
        PARSED.as_ref()
    }

    /// Parses the rules file (format in its header).
    pub fn parse(text: &str) -> Result<Rules, RulesFormatError> {
        enum Open {
            None,
            Clause,
            Form,
        }
        let mut rules = Rules::default();
        let mut open = Open::None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let err = |why| RulesFormatError { line: i + 1, why };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (tag, rest) = match line.strip_prefix('@') {
                Some(tagged) => tagged.split_once(' ').unwrap_or((tagged, "")),
                None => ("", line),
            };
            let rest = rest.trim();
            let section = |rest: &str| {
                let (anchor, heading) = rest.split_once(' ').ok_or(err("anchor and heading"))?;
                let ok = !anchor.is_empty()
                    && anchor
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if !ok {
                    return Err(err("an anchor is lower-case letters and digits"));
                }
                Ok(Section {
                    anchor: anchor.to_string(),
                    heading: heading.trim().to_string(),
                    summary_en: String::new(),
                    lines: Vec::new(),
                })
            };
            let current = match open {
                Open::None => None,
                Open::Clause => rules.clauses.last_mut(),
                Open::Form => rules.forms.last_mut(),
            };
            match tag {
                "title" => rules.title = rest.to_string(),
                "history" => rules.history.push(rest.to_string()),
                "clause" => {
                    rules.clauses.push(section(rest)?);
                    open = Open::Clause;
                }
                "form" => {
                    rules.forms.push(section(rest)?);
                    open = Open::Form;
                }
                "en" => current.ok_or(err("@en outside a section"))?.summary_en = rest.to_string(),
                "" => current
                    .ok_or(err("text outside a section"))?
                    .lines
                    .push(rest.to_string()),
                _ => return Err(err("unknown tag")),
            }
        }
        if rules.title.is_empty() || rules.clauses.is_empty() {
            return Err(RulesFormatError {
                line: 0,
                why: "a title and at least one clause",
            });
        }
        Ok(rules)
    }

    /// The section with `anchor`, clause or form.
    pub fn section(&self, anchor: &str) -> Option<&Section> {
        self.clauses
            .iter()
            .chain(&self.forms)
            .find(|s| s.anchor == anchor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn the_shipped_rules_have_nine_clauses_four_forms_and_their_source_text() {
        let r = Rules::get().unwrap();
        assert_eq!(
            r.title,
            "高雄市政府社會局應用勞動部勞工保險局資訊作業管理要點"
        );
        assert_eq!(r.history.len(), 3);
        let anchors: Vec<&str> = r.clauses.iter().map(|c| c.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"]
        );
        let forms: Vec<&str> = r.forms.iter().map(|c| c.anchor.as_str()).collect();
        assert_eq!(forms, ["form1", "form2", "form3", "form4"]);
        // §5 keeps its three paragraphs; §8 its ten-day rule.
        let s5 = r.section("s5").unwrap();
        assert_eq!(s5.heading, "五");
        assert_eq!(s5.lines.len(), 3);
        assert!(s5.lines[0].contains("載明相關法令依據及釋明業務執行與申請查詢勞保資訊之關聯性"));
        assert!(r.section("s8").unwrap().lines[1].contains("十日內提具相關檢討報告"));
        assert!(
            r.section("form3")
                .unwrap()
                .lines
                .iter()
                .any(|l| l.contains("不予受理"))
        );
        assert!(
            r.clauses
                .iter()
                .chain(&r.forms)
                .all(|s| !s.summary_en.is_empty())
        );
    }

    #[test]
    fn a_malformed_rules_file_is_refused_with_its_line() {
        let e = Rules::parse("@title T\n@clause s1 一\ntext\n@bogus x\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = Rules::parse("@title T\nloose text\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Rules::parse("@title T\n@clause S-1 一\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(Rules::parse("@title T\n").is_err(), "no clause");
        let ok = Rules::parse("@title T\n@clause s1 一\n@en Purpose.\ntext\n").unwrap();
        assert_eq!(ok.clauses[0].lines, ["text"]);
        assert_eq!(ok.clauses[0].summary_en, "Purpose.");
    }
}
