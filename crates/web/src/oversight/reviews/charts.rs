//! Charts drawn on the server as SVG, no JavaScript (§7, §8: what the director would rather
//! look at than read): grouped bars with a legend, drawn with `plotters` (its SVG backend
//! only, no font stack: the browser lays the text out). Each chart carries a `<title>` and a
//! `<desc>` for screen readers, and is followed by the same figures as a table, so nothing
//! is only in the picture.

use std::fmt::Write;

use plotters::prelude::*;

const COLOURS: [RGBColor; 8] = [
    RGBColor(0x2f, 0x6d, 0xb5),
    RGBColor(0xd9, 0x82, 0x2b),
    RGBColor(0x3a, 0x9a, 0x5b),
    RGBColor(0xb8, 0x40, 0x5e),
    RGBColor(0x7b, 0x5e, 0xa7),
    RGBColor(0x8c, 0x6d, 0x31),
    RGBColor(0x4a, 0xa3, 0xa3),
    RGBColor(0x6b, 0x6b, 0x6b),
];

const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Draws the bars; an error is the backend's (writing to a string, so in practice none).
fn draw(
    svg: &mut String,
    title: &str,
    series: &[String],
    groups: &[(String, Vec<f64>)],
) -> Result<(), String> {
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let n = groups.len().max(1);
    let per_group = series.len().max(1);
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    let e = |e: plotters::drawing::DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    // The title and the legend are placed by hand: plotters without a font stack can only
    // guess text widths, and guesses badly for Chinese.
    let title_style = ("sans-serif", 13).into_font().style(FontStyle::Bold);
    root.draw(&Text::new(title.to_string(), (44, 4), title_style))
        .map_err(e)?;
    let (plot, legend) = root.split_vertically(HEIGHT - 20);
    for (si, name) in series.iter().enumerate() {
        let x = 44 + i32::try_from(si).unwrap_or(0) * 110;
        let colour = COLOURS[si % COLOURS.len()];
        legend
            .draw(&Rectangle::new([(x, 4), (x + 10, 14)], colour.filled()))
            .map_err(e)?;
        legend
            .draw(&Text::new(name.clone(), (x + 14, 4), ("sans-serif", 10)))
            .map_err(e)?;
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(24)
        .margin_right(10)
        .x_label_area_size(18)
        .y_label_area_size(36)
        .build_cartesian_2d(0.0..n as f64, 0.0..max)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_label_formatter(&|v| number(*v))
        .label_style(("sans-serif", 10))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(e)?;
    let bar_w = 0.8 / per_group as f64;
    for si in 0..per_group {
        let colour = COLOURS[si % COLOURS.len()];
        chart
            .draw_series(groups.iter().enumerate().filter_map(|(gi, (_, values))| {
                let v = values.get(si).copied().filter(|v| v.is_finite())?;
                let x0 = gi as f64 + 0.1 + si as f64 * bar_w;
                Some(Rectangle::new(
                    [(x0, 0.0), (x0 + bar_w * 0.95, v)],
                    colour.filled(),
                ))
            }))
            .map_err(e)?;
    }
    chart
        .draw_series(groups.iter().enumerate().map(|(gi, (label, _))| {
            Text::new(
                label.clone(),
                (gi as f64 + 0.5, 0.0),
                ("sans-serif", 10).into_font().into_text_style(&plot).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Top,
                    ),
                ),
            )
        }))
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// A grouped bar chart: one group per `(label, values)`, one bar per series; then the same
/// figures as a table (the chart's text alternative).
pub fn bars(id: &str, title: &str, series: &[String], groups: &[(String, Vec<f64>)]) -> String {
    let mut svg = String::new();
    if let Err(e) = draw(&mut svg, title, series, groups) {
        tracing::warn!(chart = id, error = %e, "chart not drawn");
        svg.clear();
    }
    // The root element gets its id, class and role; a <title> and <desc> come first inside.
    let desc: Vec<String> = groups
        .iter()
        .map(|(label, values)| {
            let parts: Vec<String> = series
                .iter()
                .zip(values)
                .map(|(s, v)| format!("{s} {}", number(*v)))
                .collect();
            format!("{label}: {}", parts.join(", "))
        })
        .collect();
    let head = format!(
        r#"<svg id="{}" class="chart" role="img" aria-labelledby="{0}-title {0}-desc" "#,
        esc(id)
    );
    let inner = format!(
        r#"<title id="{0}-title">{1}</title><desc id="{0}-desc">{2}</desc>"#,
        esc(id),
        esc(title),
        esc(&desc.join("; "))
    );
    let svg = match svg
        .strip_prefix("<svg ")
        .and_then(|rest| rest.split_once('>'))
    {
        Some((attributes, body)) => format!("{head}{attributes}>{inner}{body}"),
        _ => format!(
            r#"{head}xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}">{inner}</svg>"#
        ),
    };
    let mut table = format!(
        r#"<details class="chart-data"><summary>{}</summary><table id="{}-data"><thead><tr><th></th>"#,
        esc(title),
        esc(id)
    );
    for s in series {
        let _ = write!(table, "<th>{}</th>", esc(s));
    }
    table.push_str("</tr></thead><tbody>");
    for (label, values) in groups {
        let _ = write!(table, "<tr><th>{}</th>", esc(label));
        for v in values {
            let _ = write!(table, "<td>{}</td>", number(*v));
        }
        table.push_str("</tr>");
    }
    table.push_str("</tbody></table></details>");
    svg + &table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg_of(html: &str) -> &str {
        let end = html.find("</svg>").unwrap() + "</svg>".len();
        &html[..end]
    }

    #[test]
    fn a_chart_has_one_bar_per_value_and_escapes_its_labels() {
        let html = bars(
            "c",
            "A <b> & c",
            &["x".into(), "y".into()],
            &[
                ("m1".into(), vec![1.0, 2.0]),
                ("<m2>".into(), vec![0.0, 4.0]),
            ],
        );
        let svg = svg_of(&html);
        assert!(
            svg.starts_with(r#"<svg id="c" class="chart" role="img""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<svg").count(), 1);
        // Four bars and two legend keys on a white background (plotters draws each as a
        // <rect>), and no bar anywhere else.
        assert_eq!(svg.matches("<rect").count(), 1 + 4 + 2, "{svg}");
        assert!(svg.contains(r#"<title id="c-title">A &lt;b&gt; &amp; c</title>"#));
        assert!(svg.contains("m1: x 1, y 2; &lt;m2&gt;: x 0, y 4"), "{svg}");
        assert!(!html.contains("<m2>") && !html.contains("<b>"));
        // The text alternative: the same figures as a table.
        assert!(html.contains(r#"<table id="c-data">"#));
        assert!(html.contains("<tr><th>&lt;m2&gt;</th><td>0</td><td>4</td></tr>"));
    }

    #[test]
    fn the_tallest_bar_fills_the_plot_and_the_others_scale() {
        let html = bars(
            "s",
            "scale",
            &["n".into()],
            &[("a".into(), vec![2.0]), ("b".into(), vec![4.0])],
        );
        let heights: Vec<f64> = svg_of(&html)
            .split("<rect")
            .skip(2) // the background
            .filter_map(|r| {
                let h = r.split("height=\"").nth(1)?.split('"').next()?;
                h.parse().ok()
            })
            .collect();
        // The legend's key (drawn first), then the two bars.
        assert_eq!(heights.len(), 3, "{html}");
        assert_eq!(heights[0], 10.0);
        assert!((heights[2] / heights[1] - 2.0).abs() < 0.05, "{heights:?}");
        assert!(
            heights[2] > 150.0,
            "the tallest bar fills the plot: {heights:?}"
        );
    }

    #[test]
    fn an_empty_chart_is_still_a_drawing() {
        let html = bars("e", "empty", &[], &[]);
        assert!(html.contains("<svg") && !html.contains("NaN"));
    }
}
