//! The same template and view model as an HTML fragment, for people who would rather look
//! than download: the title, the ruled boxes as tables (same spans, same label wording), the
//! charts as inline SVG (the same bars on the same scale as the PDF, with a text alternative)
//! and the footer. The fragment is escaped here; the web layer puts it in its page layout.
//! The SVG is styled by presentation attributes only: the pages' CSP allows no inline style.

use std::fmt::Write as _;

use crate::RenderError;
use crate::chart::Chart;
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

const SVG_WIDTH: f32 = 640.0;
/// Where the labels end and the value axis starts.
const SVG_LABELS_END: f32 = 208.0;
const SVG_AXIS: f32 = 216.0;
/// Room right of the axis's end for a full bar's count.
const SVG_AXIS_END: f32 = SVG_WIDTH - 48.0;
const SVG_ROW: f32 = 26.0;
const SVG_BAR: f32 = 14.0;
const SVG_TOP: f32 = 8.0;
const SVG_PAD: f32 = 4.0;
const SVG_FONT: f32 = 12.0;
const SVG_TICK_FONT: f32 = 11.0;
/// The same greys as the PDF's bars and grid.
const SVG_BAR_FILL: &str = "#606060";
const SVG_GRID: &str = "#c8c8c8";

/// A label's text and font size to fit `room` (estimating a CJK character at one em and a
/// Latin one at 0.55): shrunk down to 9, then cut with … (the whole label is in the table
/// next to the chart and in the bar's tooltip).
fn fitted(label: &str, room: f32) -> (String, f32) {
    let ems = |s: &str| -> f32 {
        s.chars()
            .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
            .sum()
    };
    let whole = ems(label);
    if whole * SVG_FONT <= room {
        return (label.to_string(), SVG_FONT);
    }
    let size = (room / whole).max(9.0);
    if whole * size <= room {
        return (label.to_string(), size);
    }
    let mut cut = String::new();
    for c in label.chars() {
        let next = format!("{cut}{c}…");
        if ems(&next) * size > room {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    (cut, size)
}

/// Escapes for SVG text: as HTML, but a line break is a space (SVG text has no `<br>`).
fn svg_esc(s: &str) -> String {
    esc(&s.replace('\n', " "))
}

/// The chart as `<figure>`: an SVG with a title and a description giving every figure
/// (role img, so a screen reader reads those), then the caption.
fn figure(out: &mut String, source: &str, chart: &Chart, caption: &str) {
    let id = format!("chart-{}", esc(source));
    let span = SVG_AXIS_END - SVG_AXIS;
    let plot = chart.bars.len() as f32 * SVG_ROW + 2.0 * SVG_PAD;
    let bottom = SVG_TOP + plot;
    let height = bottom + 24.0;
    let _ = write!(
        out,
        "<figure class=\"document-chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{SVG_WIDTH:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {SVG_WIDTH:.0} {height:.0}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        svg_esc(caption),
        svg_esc(&chart.description())
    );
    let _ = write!(out, "<g stroke=\"{SVG_GRID}\" stroke-width=\"1\">");
    for t in chart.scale.ticks().skip(1) {
        let x = SVG_AXIS + span * chart.scale.fraction(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{SVG_TOP:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>"
        );
    }
    let _ = write!(
        out,
        "</g><g fill=\"{SVG_BAR_FILL}\" font-size=\"{SVG_FONT:.0}\">"
    );
    for (i, bar) in chart.bars.iter().enumerate() {
        let mid = SVG_TOP + SVG_PAD + (i as f32 + 0.5) * SVG_ROW;
        let length = span * chart.scale.fraction(bar.value);
        let (text, size) = fitted(&bar.label, SVG_LABELS_END - 4.0);
        let _ = write!(
            out,
            "<g><title>{}：{}</title>",
            svg_esc(&bar.label),
            bar.value
        );
        if length > 0.0 {
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{SVG_AXIS:.1}\" y=\"{:.1}\" width=\"{length:.1}\" \
                 height=\"{SVG_BAR:.1}\" data-value=\"{}\"/>",
                mid - SVG_BAR / 2.0,
                bar.value
            );
        }
        let _ = write!(
            out,
            "<text x=\"{SVG_LABELS_END:.1}\" y=\"{:.1}\" font-size=\"{size:.1}\" \
             text-anchor=\"end\" fill=\"#000\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#000\">{}</text></g>",
            mid + size * 0.35,
            svg_esc(&text),
            SVG_AXIS + length + 4.0,
            mid + SVG_FONT * 0.35,
            bar.value
        );
    }
    let _ = write!(
        out,
        "</g><g stroke=\"#000\" stroke-width=\"1\">\
         <line x1=\"{SVG_AXIS:.1}\" y1=\"{SVG_TOP:.1}\" x2=\"{SVG_AXIS:.1}\" y2=\"{bottom:.1}\"/>\
         <line x1=\"{SVG_AXIS:.1}\" y1=\"{bottom:.1}\" x2=\"{SVG_AXIS_END:.1}\" y2=\"{bottom:.1}\"/>"
    );
    // Each tick where it stands on the axis: a mark, then (in the next group) its label.
    let ticks: Vec<_> = chart
        .scale
        .ticks()
        .map(|t| (t, SVG_AXIS + span * chart.scale.fraction(t)))
        .collect();
    for (_, x) in &ticks {
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
            bottom + 4.0
        );
    }
    let _ = write!(
        out,
        "</g><g font-size=\"{SVG_TICK_FONT:.0}\" text-anchor=\"middle\" fill=\"#000\">"
    );
    for (t, x) in &ticks {
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\">{t}</text>",
            bottom + 17.0
        );
    }
    let _ = write!(
        out,
        "</g></svg><figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

/// The document as an HTML fragment (`<section class="document" lang="zh-Hant-TW">…</section>`):
/// the forms are the rules' own, in Chinese only (§2–§8 prescribe their wording), so an
/// English page marks them as Chinese for readers and screen readers.
pub(crate) fn render(
    template: &Template,
    fields: &Fields,
    footer: &Footer,
) -> Result<String, RenderError> {
    let mut out = String::from("<section class=\"document\" lang=\"zh-Hant-TW\">");
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
            Block::Chart {
                source,
                label,
                value,
                caption,
                ..
            } => {
                if let Some(chart) = Chart::of(fields, source, label, value)? {
                    figure(&mut out, source, &chart, &fields.fill(caption, None)?);
                }
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
