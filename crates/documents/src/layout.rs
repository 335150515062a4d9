//! The layout layer: A4 pages, the title on every page, wrapped text, ruled boxes and
//! tables, bar charts drawn as paths, and the footer (system, generation time, who, 第 N 頁／共 M 頁, checkpoint).
//!
//! Layout first produces every page as a list of drawing operations, so the footer can say
//! how many pages there are; then the operations are written with krilla. Text is wrapped by
//! the glyph advances of the embedded font, so what is measured is what is printed.

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{Path, PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use crate::RenderError;
use crate::chart::Chart;
use crate::fields::Fields;
use crate::font::DocumentFont;
use crate::template::{Align, Block, Cell, Orientation, Row, Template};

const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;
const MARGIN: f32 = 42.0;
/// Room kept at the bottom of every page for the footer.
const FOOTER_ROOM: f32 = 26.0;
const BODY_SIZE: f32 = 10.5;
const TITLE_SIZE: f32 = 15.0;
const SUBTITLE_SIZE: f32 = 11.0;
const FOOTER_SIZE: f32 = 7.5;
const PAD: f32 = 4.0;
/// Noto CJK's ascent and descent already leave room between lines.
const LINE_GAP: f32 = 1.0;
const RULE: f32 = 0.7;
/// The shade of a label box on the blank form (light grey).
const LABEL_SHADE: u8 = 236;
/// A chart's bars: a mid grey that prints and photocopies as a solid bar, apart from the
/// black of the text and axes and the light grey of the grid.
pub(crate) const BAR_SHADE: u8 = 96;
const GRID_SHADE: u8 = 200;
const CHART_LABEL_SIZE: f32 = 9.0;
const CHART_TICK_SIZE: f32 = 8.0;
const CHART_CAPTION_SIZE: f32 = 10.0;
/// The least height of a chart's row, and the bar's thickness in it.
const CHART_ROW: f32 = 19.0;
const BAR_THICKNESS: f32 = 11.0;
/// The share of the width kept for the bars' labels, left of the axis.
const CHART_LABELS: f32 = 0.34;

/// What every page's footer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// The system's name, e.g. 查調守門員 querywarden.
    pub system: String,
    /// Generation time in the ROC calendar, Asia/Taipei.
    pub generated_at: String,
    /// Who generated the document (name and role).
    pub generated_by: String,
    /// Short hash of the latest signed audit checkpoint.
    pub checkpoint: String,
}

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        text: String,
    },
    Box {
        rect: (f32, f32, f32, f32),
        shade: bool,
    },
    /// A filled rectangle without a rule: a chart's bar.
    Fill {
        rect: (f32, f32, f32, f32),
        shade: u8,
    },
    /// A straight rule: a chart's axis, tick or grid line.
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        shade: u8,
    },
}

struct Page {
    ops: Vec<Op>,
}

struct Layout<'a> {
    font: &'a DocumentFont,
    template: &'a Template,
    fields: &'a Fields,
    width: f32,
    height: f32,
    pages: Vec<Page>,
    y: f32,
}

/// A laid-out cell: where it goes and the lines it holds.
struct Placed {
    col: usize,
    span: usize,
    row: usize,
    rowspan: usize,
    lines: Vec<String>,
    label: bool,
    align: Align,
}

/// Rows of a grid, measured: cells placed and row heights known.
struct Measured {
    cells: Vec<Placed>,
    heights: Vec<f32>,
    size: f32,
}

impl<'a> Layout<'a> {
    fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn bottom(&self) -> f32 {
        self.height - MARGIN - FOOTER_ROOM
    }

    fn line_height(&self, size: f32) -> f32 {
        self.font.line_em() * size * LINE_GAP
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page { ops: Vec::new() });
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) -> Result<(), RenderError> {
        self.pages.push(Page { ops: Vec::new() });
        self.y = MARGIN;
        for line in &self.template.title {
            self.centred(line.clone(), TITLE_SIZE);
        }
        let subtitles = self
            .template
            .subtitle
            .iter()
            .map(|s| self.fields.fill(s, None))
            .collect::<Result<Vec<_>, _>>()?;
        for line in subtitles {
            self.centred(line, SUBTITLE_SIZE);
        }
        self.y += 6.0;
        Ok(())
    }

    fn centred(&mut self, text: String, size: f32) {
        let w = self.font.measure(&text, size);
        let x = (self.width - w) / 2.0;
        let baseline = self.y + self.font.ascent_em() * size;
        self.y += self.line_height(size);
        self.page().ops.push(Op::Text {
            x,
            baseline,
            size,
            text,
        });
    }

    fn text_block(&mut self, text: &str, align: Align, size: f32) -> Result<(), RenderError> {
        let width = self.content_width();
        let lh = self.line_height(size);
        for line in wrap(self.font, text, size, width) {
            if self.y + lh > self.bottom() {
                self.new_page()?;
            }
            let w = self.font.measure(&line, size);
            let x = MARGIN + aligned(align, width, w);
            let baseline = self.y + self.font.ascent_em() * size;
            self.page().ops.push(Op::Text {
                x,
                baseline,
                size,
                text: line,
            });
            self.y += lh;
        }
        Ok(())
    }

    /// One line of text whose line box is vertically centred on `mid`, its left edge at `x`.
    fn text_at(&mut self, x: f32, mid: f32, size: f32, text: String) {
        let baseline = mid - self.line_height(size) / 2.0 + self.font.ascent_em() * size;
        self.page().ops.push(Op::Text {
            x,
            baseline,
            size,
            text,
        });
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, shade: u8) {
        self.page().ops.push(Op::Line {
            from,
            to,
            width,
            shade,
        });
    }

    /// A horizontal bar chart across the content width: labels right-aligned left of the
    /// axis, a grey bar per count measured on the chart's round scale, the count at the
    /// bar's end, the scale's marks under the axis and the caption under all. The chart is
    /// kept on one page.
    fn chart(&mut self, chart: &Chart, caption: &str) -> Result<(), RenderError> {
        let width = self.content_width();
        let label_room = width * CHART_LABELS;
        let x0 = MARGIN + label_room + 8.0;
        let widest_value = chart
            .bars
            .iter()
            .map(|b| self.font.measure(&b.value.to_string(), CHART_LABEL_SIZE))
            .fold(0.0f32, f32::max);
        let last_tick = self.font.measure(
            &chart.scale.ticks().last().unwrap_or(0).to_string(),
            CHART_TICK_SIZE,
        );
        // Room right of the axis's end for a full bar's count and the last mark's figure.
        let x1 = MARGIN + width - (widest_value + 6.0).max(last_tick / 2.0 + 2.0);
        let span = x1 - x0;
        let lh = self.line_height(CHART_LABEL_SIZE);
        let labels: Vec<Vec<String>> = chart
            .bars
            .iter()
            .map(|b| wrap(self.font, &b.label, CHART_LABEL_SIZE, label_room))
            .collect();
        let rows: Vec<f32> = labels
            .iter()
            .map(|l| (l.len() as f32 * lh + 4.0).max(CHART_ROW))
            .collect();
        let plot = rows.iter().sum::<f32>() + 2.0 * PAD;
        let tick_lh = self.line_height(CHART_TICK_SIZE);
        let captions = wrap(self.font, caption, CHART_CAPTION_SIZE, width);
        let caption_lh = self.line_height(CHART_CAPTION_SIZE);
        let height = 6.0 + plot + 3.0 + tick_lh + 4.0 + captions.len() as f32 * caption_lh;
        if self.y + height > self.bottom() && self.y > MARGIN + 80.0 {
            self.new_page()?;
        }
        let top = self.y + 6.0;
        let bottom = top + plot;

        // The grid first, so the bars lie over it.
        for t in chart.scale.ticks().skip(1) {
            let x = x0 + span * chart.scale.fraction(t);
            self.line((x, top), (x, bottom), 0.4, GRID_SHADE);
        }
        let mut y = top + PAD;
        for ((bar, lines), h) in chart.bars.iter().zip(&labels).zip(&rows) {
            let mid = y + h / 2.0;
            let length = span * chart.scale.fraction(bar.value);
            if length > 0.0 {
                self.page().ops.push(Op::Fill {
                    rect: (x0, mid - BAR_THICKNESS / 2.0, length, BAR_THICKNESS),
                    shade: BAR_SHADE,
                });
            }
            let first = mid - (lines.len() as f32 - 1.0) * lh / 2.0;
            for (i, line) in lines.iter().enumerate() {
                let w = self.font.measure(line, CHART_LABEL_SIZE);
                self.text_at(
                    x0 - 8.0 - w,
                    first + i as f32 * lh,
                    CHART_LABEL_SIZE,
                    line.clone(),
                );
            }
            self.text_at(
                x0 + length + 3.0,
                mid,
                CHART_LABEL_SIZE,
                bar.value.to_string(),
            );
            y += h;
        }
        // The axes, then the scale's marks and figures under the value axis.
        self.line((x0, top), (x0, bottom), RULE, 0);
        self.line((x0, bottom), (x1, bottom), RULE, 0);
        for t in chart.scale.ticks() {
            let x = x0 + span * chart.scale.fraction(t);
            self.line((x, bottom), (x, bottom + 3.0), RULE, 0);
            let figure = t.to_string();
            let w = self.font.measure(&figure, CHART_TICK_SIZE);
            self.text_at(
                x - w / 2.0,
                bottom + 3.0 + tick_lh / 2.0,
                CHART_TICK_SIZE,
                figure,
            );
        }
        self.y = bottom + 3.0 + tick_lh + 4.0;
        for line in captions {
            let w = self.font.measure(&line, CHART_CAPTION_SIZE);
            let mid = self.y + caption_lh / 2.0;
            self.text_at(MARGIN + (width - w) / 2.0, mid, CHART_CAPTION_SIZE, line);
            self.y += caption_lh;
        }
        Ok(())
    }

    fn columns(&self, widths: &[f32]) -> Vec<f32> {
        let total: f32 = widths.iter().sum();
        let mut x = MARGIN;
        let mut edges = vec![x];
        for w in widths {
            x += w / total * self.content_width();
            edges.push(x);
        }
        edges
    }

    /// Places the cells of `rows` on the column grid and measures every row.
    fn measure(
        &self,
        rows: &[Row],
        edges: &[f32],
        size: f32,
        fields: &Fields,
        outer: Option<&Fields>,
    ) -> Result<Measured, RenderError> {
        let ncols = edges.len() - 1;
        let mut taken: Vec<Vec<bool>> = vec![vec![false; ncols]; rows.len()];
        let mut cells = Vec::new();
        let lh = self.line_height(size);
        let mut heights: Vec<f32> = rows
            .iter()
            .map(|r| r.min_lines.unwrap_or(1.0) * lh + 2.0 * PAD)
            .collect();
        for (r, row) in rows.iter().enumerate() {
            let mut col = 0;
            for cell in &row.cells {
                while col < ncols && taken[r][col] {
                    col += 1;
                }
                if col >= ncols {
                    return Err(RenderError::Template(format!(
                        "row {r} has more cells than columns"
                    )));
                }
                let span = cell.span.clamp(1, ncols - col);
                let rowspan = cell.rowspan.clamp(1, rows.len() - r);
                for t in taken.iter_mut().skip(r).take(rowspan) {
                    for c in t.iter_mut().skip(col).take(span) {
                        *c = true;
                    }
                }
                let text = cell_text(cell, fields, outer)?;
                let inner = edges[col + span] - edges[col] - 2.0 * PAD;
                let lines = wrap(self.font, &text, size, inner);
                cells.push(Placed {
                    col,
                    span,
                    row: r,
                    rowspan,
                    lines,
                    label: cell.label,
                    align: cell.align.unwrap_or(if cell.label {
                        Align::Center
                    } else {
                        Align::Left
                    }),
                });
                col += span;
            }
        }
        for c in cells.iter().filter(|c| c.rowspan == 1) {
            let need = c.lines.len() as f32 * lh + 2.0 * PAD;
            heights[c.row] = heights[c.row].max(need);
        }
        for c in cells.iter().filter(|c| c.rowspan > 1) {
            let need = c.lines.len() as f32 * lh + 2.0 * PAD;
            let have: f32 = heights[c.row..c.row + c.rowspan].iter().sum();
            if need > have {
                heights[c.row + c.rowspan - 1] += need - have;
            }
        }
        Ok(Measured {
            cells,
            heights,
            size,
        })
    }

    /// Draws measured rows from the cursor, keeping rows joined by a tall cell together and
    /// calling `on_break` for a fresh page (which redraws a table's header).
    fn draw_rows(
        &mut self,
        m: &Measured,
        edges: &[f32],
        on_break: &mut dyn FnMut(&mut Self) -> Result<(), RenderError>,
    ) -> Result<(), RenderError> {
        // Bands: runs of rows that a rowspan ties together.
        let mut band_end = vec![0usize; m.heights.len()];
        for (r, end) in band_end.iter_mut().enumerate() {
            *end = r + 1;
        }
        for c in &m.cells {
            let end = c.row + c.rowspan;
            for e in band_end.iter_mut().skip(c.row).take(c.rowspan) {
                *e = (*e).max(end);
            }
        }
        let mut tops = vec![0.0f32; m.heights.len()];
        let mut page_of = vec![0usize; m.heights.len()];
        let mut r = 0;
        while r < m.heights.len() {
            let mut end = band_end[r];
            let mut i = r;
            while i < end {
                end = end.max(band_end[i]);
                i += 1;
            }
            let band: f32 = m.heights[r..end].iter().sum();
            if self.y + band > self.bottom() && self.y > MARGIN + 80.0 {
                self.new_page()?;
                on_break(self)?;
            }
            for k in r..end {
                tops[k] = self.y;
                page_of[k] = self.pages.len() - 1;
                self.y += m.heights[k];
            }
            r = end;
        }
        let lh = self.line_height(m.size);
        for c in &m.cells {
            let x = edges[c.col];
            let w = edges[c.col + c.span] - x;
            let top = tops[c.row];
            let h: f32 = m.heights[c.row..c.row + c.rowspan].iter().sum();
            let text_h = c.lines.len() as f32 * lh;
            let first = if c.label || c.lines.len() <= 1 && h < 3.0 * lh + 2.0 * PAD {
                top + (h - text_h) / 2.0
            } else {
                top + PAD
            };
            let page = &mut self.pages[page_of[c.row]];
            page.ops.push(Op::Box {
                rect: (x, top, w, h),
                shade: c.label,
            });
            for (i, line) in c.lines.iter().enumerate() {
                let lw = self.font.measure(line, m.size);
                page.ops.push(Op::Text {
                    x: x + PAD + aligned(c.align, w - 2.0 * PAD, lw),
                    baseline: first
                        + i as f32 * lh
                        + self.font.ascent_em() * m.size
                        + (LINE_GAP - 1.0) * m.size / 2.0,
                    size: m.size,
                    text: line.clone(),
                });
            }
        }
        Ok(())
    }

    fn block(&mut self, block: &Block) -> Result<(), RenderError> {
        match block {
            Block::Text {
                text,
                align,
                size,
                gap,
            } => {
                self.y += gap.unwrap_or(0.0);
                let text = self.fields.fill(text, None)?;
                self.text_block(&text, *align, size.unwrap_or(BODY_SIZE))
            }
            Block::Grid {
                widths,
                rows,
                size,
                gap,
            } => {
                self.y += gap.unwrap_or(0.0);
                let edges = self.columns(widths);
                let m = self.measure(rows, &edges, size.unwrap_or(BODY_SIZE), self.fields, None)?;
                self.draw_rows(&m, &edges, &mut |_| Ok(()))
            }
            Block::Table {
                source,
                widths,
                header,
                row,
                per_page,
                number_field,
                empty,
                size,
                gap,
            } => {
                self.y += gap.unwrap_or(0.0);
                let size = size.unwrap_or(BODY_SIZE);
                let edges = self.columns(widths);
                let head = self.measure(header, &edges, size, self.fields, None)?;
                let mut rows: Vec<Fields> = self.fields.rows(source)?.to_vec();
                if let (Some(n), Some(field)) = (per_page, number_field) {
                    let n = (*n).max(1);
                    let filled = rows.len().div_ceil(n).max(1) * n;
                    for k in rows.len()..filled {
                        rows.push(blank_row(row, field, k + 1));
                    }
                }
                let mut on_break = |l: &mut Self| l.draw_rows(&head, &edges, &mut |_| Ok(()));
                on_break(self)?;
                if rows.is_empty() {
                    let text = empty.clone().unwrap_or_default();
                    let only = Row {
                        cells: vec![Cell {
                            text,
                            span: widths.len(),
                            rowspan: 1,
                            align: Some(Align::Center),
                            ..Cell::default()
                        }],
                        min_lines: None,
                    };
                    let m = self.measure(&[only], &edges, size, self.fields, None)?;
                    return self.draw_rows(&m, &edges, &mut on_break);
                }
                for (i, item) in rows.iter().enumerate() {
                    if let Some(n) = per_page
                        && i > 0
                        && i % (*n).max(1) == 0
                    {
                        self.new_page()?;
                        on_break(self)?;
                    }
                    let m = self.measure(
                        std::slice::from_ref(row),
                        &edges,
                        size,
                        item,
                        Some(self.fields),
                    )?;
                    self.draw_rows(&m, &edges, &mut on_break)?;
                }
                Ok(())
            }
            Block::Chart {
                source,
                label,
                value,
                caption,
                gap,
            } => {
                let Some(chart) = Chart::of(self.fields, source, label, value)? else {
                    return Ok(());
                };
                self.y += gap.unwrap_or(0.0);
                let caption = self.fields.fill(caption, None)?;
                self.chart(&chart, &caption)
            }
        }
    }
}

/// A blank numbered row: every field the row names is empty except the number.
fn blank_row(row: &Row, number_field: &str, n: usize) -> Fields {
    let mut f = Fields::new();
    for cell in &row.cells {
        for name in placeholders(&cell.text) {
            f = if let Some(flag) = name.strip_prefix('?') {
                f.flag(flag, false)
            } else {
                f.text(name, "")
            };
        }
        if let Some(each) = &cell.each {
            f = f.list(each, Vec::new());
        }
    }
    f.text(number_field, n.to_string())
}

fn placeholders(pattern: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// The whole text of a cell: its own text, then one line per list element.
pub(crate) fn cell_text(
    cell: &Cell,
    fields: &Fields,
    outer: Option<&Fields>,
) -> Result<String, RenderError> {
    let mut text = fields.fill(&cell.text, outer)?;
    if let Some(each) = &cell.each {
        let line = cell.line.as_deref().unwrap_or("");
        let rows = match fields.rows(each) {
            Ok(r) => r,
            Err(e) => outer.map(|o| o.rows(each)).ok_or(e)??,
        };
        if rows.is_empty()
            && let Some(none) = &cell.none
        {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(none);
        }
        for r in rows {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&r.fill(line, Some(fields))?);
        }
    }
    Ok(text)
}

fn aligned(align: Align, room: f32, width: f32) -> f32 {
    match align {
        Align::Left => 0.0,
        Align::Center => ((room - width) / 2.0).max(0.0),
        Align::Right => (room - width).max(0.0),
    }
}

/// Breaks `text` into lines no wider than `width`: at `\n`, between CJK characters, and
/// between words of Latin text (a word longer than the line is broken where it must be).
pub(crate) fn wrap(font: &DocumentFont, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for token in tokens(para) {
            let w = font.measure(token, size);
            if line_w + w <= width || line.is_empty() && w <= width {
                line.push_str(token);
                line_w += w;
                continue;
            }
            if token == " " {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
                continue;
            }
            if w <= width {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line.push_str(token);
                line_w = w;
                continue;
            }
            // A token wider than the line: break it by characters.
            for c in token.chars() {
                let cw = font.char_width(c, size);
                if line_w + cw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += cw;
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Words of Latin text and digits stay whole; every other character stands alone.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        let wordish = c.is_ascii_alphanumeric() || "-_.,:;/@()#%+'\"".contains(c);
        match (wordish, start) {
            (true, None) => start = Some(i),
            (true, Some(_)) => {}
            (false, Some(st)) => {
                out.push(&s[st..i]);
                start = None;
                out.push(&s[i..i + c.len_utf8()]);
            }
            (false, None) => out.push(&s[i..i + c.len_utf8()]),
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// Shapes text with rustybuzz (CJK and Latin, left to right) with one parsed face for the
/// whole document.
struct Shaper<'f> {
    face: rustybuzz::Face<'f>,
    upem: f32,
}

impl<'f> Shaper<'f> {
    fn new(font: &'f DocumentFont) -> Result<Self, RenderError> {
        let face = rustybuzz::Face::from_slice(font.data(), font.index())
            .ok_or_else(|| RenderError::Pdf("the font cannot be shaped with".into()))?;
        Ok(Shaper {
            face,
            upem: font.units_per_em(),
        })
    }

    fn shape(&self, text: &str) -> Vec<KrillaGlyph> {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let out = rustybuzz::shape(&self.face, &[], buffer);
        let infos = out.glyph_infos();
        let positions = out.glyph_positions();
        let mut glyphs = Vec::with_capacity(infos.len());
        for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
            let start = info.cluster as usize;
            // Left to right: a cluster ends where the next one starts.
            let end = infos[i + 1..]
                .iter()
                .map(|n| n.cluster as usize)
                .find(|&c| c != start)
                .unwrap_or(text.len());
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                pos.x_advance as f32 / self.upem,
                pos.x_offset as f32 / self.upem,
                pos.y_offset as f32 / self.upem,
                pos.y_advance as f32 / self.upem,
                start..end,
                None,
            ));
        }
        glyphs
    }
}

fn grey(shade: u8) -> Fill {
    Fill {
        paint: luma::Color::new(shade).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Lays out `template` with `fields` and writes the PDF.
pub(crate) fn render(
    font: &DocumentFont,
    template: &Template,
    fields: &Fields,
    footer: &Footer,
) -> Result<Vec<u8>, RenderError> {
    let layout = laid_out(font, template, fields)?;
    let (width, height) = (layout.width, layout.height);
    let total = layout.pages.len();
    let mut doc = Document::new();
    let settings =
        PageSettings::from_wh(width, height).ok_or_else(|| RenderError::Pdf("page size".into()))?;
    let pen = Pen::new(font)?;
    for (n, page) in layout.pages.iter().enumerate() {
        let mut p = doc.start_page_with(settings.clone());
        let mut s = p.surface();
        for op in &page.ops {
            pen.draw(&mut s, op);
        }
        pen.footer(&mut s, footer, (n + 1, total), (width, height));
        s.finish();
        p.finish();
    }
    doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

/// Writes a page's drawing operations with krilla: boxes, bars and rules as paths, text as
/// glyphs shaped from the embedded font. Text is black, so whatever fills with another
/// shade, or with nothing, sets the black fill back after it.
struct Pen<'f> {
    font: &'f DocumentFont,
    pdf_font: krilla::text::Font,
    shaper: Shaper<'f>,
}

impl<'f> Pen<'f> {
    fn new(font: &'f DocumentFont) -> Result<Self, RenderError> {
        Ok(Pen {
            font,
            pdf_font: font.pdf(),
            shaper: Shaper::new(font)?,
        })
    }

    fn draw(&self, s: &mut Surface<'_>, op: &Op) {
        let black = Fill::default();
        match op {
            Op::Box { rect, shade } => {
                let Some(path) = rect_path(*rect) else {
                    return;
                };
                s.set_fill(shade.then(|| grey(LABEL_SHADE)));
                s.set_stroke(Some(Stroke {
                    width: RULE,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
                s.set_fill(Some(black));
            }
            Op::Fill { rect, shade } => {
                let Some(path) = rect_path(*rect) else {
                    return;
                };
                s.set_stroke(None);
                s.set_fill(Some(grey(*shade)));
                s.draw_path(&path);
                s.set_fill(Some(black));
            }
            Op::Line {
                from,
                to,
                width,
                shade,
            } => {
                let mut pb = PathBuilder::new();
                pb.move_to(from.0, from.1);
                pb.line_to(to.0, to.1);
                let Some(path) = pb.finish() else { return };
                // Stroked only: the black fill kept for text would fill the path too.
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: luma::Color::new(*shade).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
                s.set_fill(Some(black));
            }
            Op::Text {
                x,
                baseline,
                size,
                text,
            } => {
                if text.is_empty() {
                    return;
                }
                s.set_fill(Some(black));
                self.text(s, Point::from_xy(*x, *baseline), text, *size);
            }
        }
    }

    /// The footer of page `page` of `pages`: a rule, then system · time · who · checkpoint
    /// on the left, page N of M on the right.
    fn footer(
        &self,
        s: &mut Surface<'_>,
        footer: &Footer,
        (page, pages): (usize, usize),
        (width, height): (f32, f32),
    ) {
        let fy = height - MARGIN - FOOTER_ROOM + 10.0;
        let mut pb = PathBuilder::new();
        pb.move_to(MARGIN, fy);
        pb.line_to(width - MARGIN, fy);
        if let Some(path) = pb.finish() {
            s.set_fill(None);
            s.set_stroke(Some(Stroke {
                width: 0.4,
                ..Stroke::default()
            }));
            s.draw_path(&path);
            s.set_stroke(None);
        }
        s.set_fill(Some(Fill::default()));
        let left = format!(
            "{}　產製時間：{}　產製人：{}　稽核查核點：{}",
            footer.system, footer.generated_at, footer.generated_by, footer.checkpoint
        );
        let right = format!("第 {page} 頁／共 {pages} 頁");
        let baseline = fy + 4.0 + self.font.ascent_em() * FOOTER_SIZE;
        self.text(s, Point::from_xy(MARGIN, baseline), &left, FOOTER_SIZE);
        let rw = self.font.measure(&right, FOOTER_SIZE);
        let right_at = Point::from_xy(width - MARGIN - rw, baseline);
        self.text(s, right_at, &right, FOOTER_SIZE);
    }

    fn text(&self, s: &mut Surface<'_>, at: Point, text: &str, size: f32) {
        let glyphs = self.shaper.shape(text);
        s.draw_glyphs(at, &glyphs, self.pdf_font.clone(), text, size, false);
    }
}

/// A rectangle `(x, y, width, height)` as a path; `None` for one krilla cannot draw.
fn rect_path(rect: (f32, f32, f32, f32)) -> Option<Path> {
    let r = Rect::from_xywh(rect.0, rect.1, rect.2, rect.3)?;
    let mut pb = PathBuilder::new();
    pb.push_rect(r);
    pb.finish()
}

/// `template` with `fields` laid out on its pages, in its orientation.
fn laid_out<'a>(
    font: &'a DocumentFont,
    template: &'a Template,
    fields: &'a Fields,
) -> Result<Layout<'a>, RenderError> {
    let (width, height) = match template.orientation {
        Orientation::Portrait => (A4_SHORT, A4_LONG),
        Orientation::Landscape => (A4_LONG, A4_SHORT),
    };
    let mut layout = Layout {
        font,
        template,
        fields,
        width,
        height,
        pages: Vec::new(),
        y: MARGIN,
    };
    layout.new_page()?;
    for block in &template.blocks {
        layout.block(block)?;
    }
    Ok(layout)
}

/// The number of pages `template` takes with `fields` (for tests and the HTML view's note).
pub(crate) fn page_count(
    font: &DocumentFont,
    template: &Template,
    fields: &Fields,
) -> Result<usize, RenderError> {
    let layout = laid_out(font, template, fields)?;
    Ok(layout.pages.len())
}
