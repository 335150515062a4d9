//! The same template and view model as an HTML fragment, for people who would rather look
//! than download: the title, the ruled boxes as tables (same spans, same label wording) and
//! the footer. The fragment is escaped here; the web layer puts it in its page layout.

use std::fmt::Write as _;

use crate::RenderError;
use crate::fields::Fields;
use crate::layout::{Footer, cell_text};
use crate::template::{Align, Block, Cell, Row, Template};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

fn align(a: Align) -> &'static str {
    match a {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
    }
}

fn cell(
    out: &mut String,
    c: &Cell,
    fields: &Fields,
    outer: Option<&Fields>,
) -> Result<(), RenderError> {
    let text = cell_text(c, fields, outer)?;
    let tag = if c.label { "th" } else { "td" };
    let a = c
        .align
        .unwrap_or(if c.label { Align::Center } else { Align::Left });
    let _ = write!(
        out,
        "<{tag} colspan=\"{}\" rowspan=\"{}\" style=\"text-align:{}\">{}</{tag}>",
        c.span,
        c.rowspan,
        align(a),
        esc(&text)
    );
    Ok(())
}

fn row(
    out: &mut String,
    r: &Row,
    fields: &Fields,
    outer: Option<&Fields>,
) -> Result<(), RenderError> {
    out.push_str("<tr>");
    for c in &r.cells {
        cell(out, c, fields, outer)?;
    }
    out.push_str("</tr>");
    Ok(())
}

fn colgroup(out: &mut String, widths: &[f32]) {
    let total: f32 = widths.iter().sum();
    out.push_str("<colgroup>");
    for w in widths {
        let _ = write!(out, "<col style=\"width:{:.1}%\">", w / total * 100.0);
    }
    out.push_str("</colgroup>");
}

/// The document as an HTML fragment (`<section class="document">…</section>`).
pub(crate) fn render(
    template: &Template,
    fields: &Fields,
    footer: &Footer,
) -> Result<String, RenderError> {
    let mut out = String::from("<section class=\"document\">");
    for t in &template.title {
        let _ = write!(out, "<h2 class=\"document-title\">{}</h2>", esc(t));
    }
    for s in &template.subtitle {
        let _ = write!(
            out,
            "<p class=\"document-subtitle\">{}</p>",
            esc(&fields.fill(s, None)?)
        );
    }
    for b in &template.blocks {
        match b {
            Block::Text { text, align: a, .. } => {
                let _ = write!(
                    out,
                    "<p style=\"text-align:{}\">{}</p>",
                    align(*a),
                    esc(&fields.fill(text, None)?)
                );
            }
            Block::Grid { widths, rows, .. } => {
                out.push_str("<table class=\"form-grid\">");
                colgroup(&mut out, widths);
                for r in rows {
                    row(&mut out, r, fields, None)?;
                }
                out.push_str("</table>");
            }
            Block::Table {
                source,
                widths,
                header,
                row: r,
                empty,
                ..
            } => {
                out.push_str("<table class=\"form-grid\">");
                colgroup(&mut out, widths);
                out.push_str("<thead>");
                for h in header {
                    row(&mut out, h, fields, None)?;
                }
                out.push_str("</thead><tbody>");
                let items = fields.rows(source)?;
                if items.is_empty() {
                    let _ = write!(
                        out,
                        "<tr><td colspan=\"{}\" style=\"text-align:center\">{}</td></tr>",
                        widths.len(),
                        esc(empty.as_deref().unwrap_or(""))
                    );
                }
                for item in items {
                    row(&mut out, r, item, Some(fields))?;
                }
                out.push_str("</tbody></table>");
            }
        }
    }
    let _ = write!(
        out,
        "<p class=\"document-footer\">{}　產製時間：{}　產製人：{}　稽核查核點：{}</p></section>",
        esc(&footer.system),
        esc(&footer.generated_at),
        esc(&footer.generated_by),
        esc(&footer.checkpoint)
    );
    Ok(out)
}
