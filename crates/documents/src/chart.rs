//! The bar charts of the §7 quarterly report (queries per service item, per unit) as
//! figures before they are drawn: which bars, their counts, and a value axis of round steps
//! that every bar is measured against. The PDF layout draws a chart with krilla's paths and
//! the HTML view as inline SVG, both from this, so the two show the same figure.
//! Not security-sensitive: it draws the counts it is given.

use crate::RenderError;
use crate::fields::Fields;

/// One bar: what it counts and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: u64,
}

/// The value axis: from 0 to `max` in steps of `step`, a step being 1, 2 or 5 times a power
/// of ten, so the marks read as round numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scale {
    step: u64,
    max: u64,
}

/// At most this many steps on the axis: more marks crowd the labels of a narrow chart.
const MAX_STEPS: u64 = 5;

impl Scale {
    /// The finest round scale that holds `largest`; none for zero (there is nothing to draw).
    pub(crate) fn holding(largest: u64) -> Option<Scale> {
        if largest == 0 {
            return None;
        }
        let mut power: u64 = 1;
        loop {
            for m in [1, 2, 5] {
                let step = power.checked_mul(m)?;
                let steps = largest.div_ceil(step);
                if steps <= MAX_STEPS {
                    return Some(Scale {
                        step,
                        max: steps.checked_mul(step)?,
                    });
                }
            }
            power = power.checked_mul(10)?;
        }
    }

    /// The values marked on the axis, 0 first.
    pub(crate) fn ticks(self) -> impl Iterator<Item = u64> {
        (0..=self.max / self.step).map(move |i| i * self.step)
    }

    /// Where `value` falls on the axis, from 0 (the origin) to 1 (the last mark).
    pub(crate) fn fraction(self, value: u64) -> f32 {
        (value.min(self.max) as f64 / self.max as f64) as f32
    }
}

/// A chart ready to draw: its bars in the list's order and the axis they share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chart {
    pub bars: Vec<Bar>,
    pub scale: Scale,
}

impl Chart {
    /// The chart of the list `source`: each element's `label` pattern filled and its number
    /// field `value`. None when every value is zero or the list is empty.
    pub(crate) fn of(
        fields: &Fields,
        source: &str,
        label: &str,
        value: &str,
    ) -> Result<Option<Chart>, RenderError> {
        let bars = fields
            .rows(source)?
            .iter()
            .map(|row| {
                Ok(Bar {
                    label: row.fill(label, Some(fields))?,
                    value: row.count(value)?,
                })
            })
            .collect::<Result<Vec<_>, RenderError>>()?;
        let largest = bars.iter().map(|b| b.value).max().unwrap_or(0);
        Ok(Scale::holding(largest).map(|scale| Chart { bars, scale }))
    }

    /// The figures in words, for a reader who cannot see the picture.
    pub(crate) fn description(&self) -> String {
        self.bars
            .iter()
            .map(|b| format!("{}：{}", b.label, b.value))
            .collect::<Vec<_>>()
            .join("；")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_at_the_first_round_mark_holding_the_largest_count() {
        let cases = [
            (1, 1, 1),
            (3, 1, 3),
            (5, 1, 5),
            (6, 2, 6),
            (7, 2, 8),
            (12, 5, 15),
            (41, 10, 50),
            (48, 10, 50),
            (50, 10, 50),
            (51, 20, 60),
            (100, 20, 100),
            (999, 200, 1000),
            (1234, 500, 1500),
        ];
        for (largest, step, max) in cases {
            assert_eq!(
                Scale::holding(largest),
                Some(Scale { step, max }),
                "largest {largest}"
            );
        }
    }

    #[test]
    fn nothing_is_scaled_for_zero_and_the_largest_count_still_fits() {
        assert_eq!(Scale::holding(0), None);
        // The axis of the largest u64 would overflow: no chart rather than a wrong one.
        assert_eq!(Scale::holding(u64::MAX), None);
        let s = Scale::holding(10_u64.pow(18)).unwrap();
        assert_eq!(s.ticks().last(), Some(10_u64.pow(18)));
    }

    #[test]
    fn ticks_run_from_zero_to_the_end_of_the_axis() {
        let s = Scale::holding(48).unwrap();
        assert_eq!(s.ticks().collect::<Vec<_>>(), vec![0, 10, 20, 30, 40, 50]);
        assert_eq!(s.fraction(0), 0.0);
        assert_eq!(s.fraction(25), 0.5);
        assert_eq!(s.fraction(50), 1.0);
    }

    #[test]
    fn a_chart_takes_its_bars_from_the_list_in_order() {
        let row = |name: &str, n| Fields::new().text("name", name).number("count", n);
        let fields = Fields::new().list("counts", vec![row("甲", 4), row("乙", 0), row("丙", 9)]);
        let chart = Chart::of(&fields, "counts", "{name}", "count")
            .unwrap()
            .unwrap();
        let bars: Vec<(&str, u64)> = chart
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.value))
            .collect();
        assert_eq!(bars, vec![("甲", 4), ("乙", 0), ("丙", 9)]);
        assert_eq!(chart.scale, Scale { step: 2, max: 10 });
        assert_eq!(chart.description(), "甲：4；乙：0；丙：9");

        let zeros = Fields::new().list("counts", vec![row("甲", 0)]);
        assert_eq!(Chart::of(&zeros, "counts", "{name}", "count"), Ok(None));
        let text = Fields::new().list("counts", vec![Fields::new().text("count", "4")]);
        assert!(Chart::of(&text, "counts", "", "count").is_err());
    }
}
