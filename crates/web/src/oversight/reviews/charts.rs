//! Charts drawn on the server as SVG text, no JavaScript: grouped bars with a legend. Hand
//! built rather than with `plotters`: four bar charts do not earn a plotting library and its
//! font stack on a 2-core build machine, and SVG text is easy to test.

use std::fmt::Write;

const COLOURS: [&str; 8] = [
    "#2f6db5", "#d9822b", "#3a9a5b", "#b8405e", "#7b5ea7", "#8c6d31", "#4aa3a3", "#6b6b6b",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A grouped bar chart: one group per `(label, values)`, one bar per series.
pub fn bars(id: &str, title: &str, series: &[String], groups: &[(String, Vec<f64>)]) -> String {
    let (w, h, left, bottom, top) = (640.0_f64, 260.0_f64, 44.0_f64, 40.0_f64, 28.0_f64);
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - top - bottom;
    let group_w = plot_w / groups.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><title>{}</title>"#,
        esc(id),
        esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{left}" y="16" font-size="13" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#999"/>"##,
        top + plot_h,
        w - 10.0,
        top + plot_h
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"#,
        left - 4.0,
        top + 8.0,
        max.round()
    );
    for (gi, (label, values)) in groups.iter().enumerate() {
        let gx = left + gi as f64 * group_w + group_w * 0.1;
        for (si, v) in values.iter().enumerate() {
            let bh = (v / max) * plot_h;
            let _ = write!(
                s,
                r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" data-value="{}"><title>{} {}: {}</title></rect>"#,
                gx + si as f64 * bar_w,
                top + plot_h - bh,
                (bar_w - 1.0).max(1.0),
                bh,
                COLOURS[si % COLOURS.len()],
                v,
                esc(label),
                esc(series.get(si).map_or("", String::as_str)),
                v
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            gx + group_w * 0.4,
            top + plot_h + 14.0,
            esc(label)
        );
    }
    for (si, name) in series.iter().enumerate() {
        let x = left + si as f64 * 110.0;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="10">{}</text>"#,
            h - 14.0,
            COLOURS[si % COLOURS.len()],
            x + 14.0,
            h - 5.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_bar_per_value_and_escapes_its_labels() {
        let svg = bars(
            "c",
            "A <b> & c",
            &["x".into(), "y".into()],
            &[
                ("m1".into(), vec![1.0, 2.0]),
                ("<m2>".into(), vec![0.0, 4.0]),
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="bar""#).count(), 4);
        assert!(svg.contains("A &lt;b&gt; &amp; c"));
        assert!(svg.contains("&lt;m2&gt;") && !svg.contains("<m2>"));
    }

    #[test]
    fn an_empty_chart_is_still_a_drawing() {
        let svg = bars("e", "empty", &[], &[]);
        assert!(svg.contains("<svg") && !svg.contains("NaN"));
    }
}
