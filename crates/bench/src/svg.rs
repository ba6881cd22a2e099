//! A small self-contained SVG: line charts side by side over the same x values (the sweep's
//! client counts, spaced evenly since they double each step).

use std::fmt::Write as _;

/// One chart: a title, the y unit, and one value per x.
pub struct Chart<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub values: &'a [f64],
    pub color: &'a str,
}

const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 300.0;
const MARGIN_L: f64 = 70.0;
const MARGIN_R: f64 = 20.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 50.0;
const HEADER: f64 = 36.0;
const INSET: f64 = 18.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The smallest 1, 2 or 5 × 10^k at or above `v` (1 for nothing positive).
fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

fn label(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if v >= 10_000.0 {
        format!("{}k", trim(format!("{:.1}", v / 1000.0)))
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        trim(format!("{v:.1}"))
    } else {
        trim(format!("{v:.2}"))
    }
}

/// A y axis for values up to `max`: a 1, 2 or 5 × 10^k step and the top, about four steps up.
fn axis(max: f64) -> (f64, f64) {
    let step = nice_ceiling(max / 4.0);
    let top = (step * (max / step).ceil()).max(step);
    (step, top)
}

/// Renders `charts` side by side, each with `xs` on the x axis (labelled `x_label`).
pub fn line_charts(
    title: &str,
    subtitle: &str,
    x_label: &str,
    xs: &[u32],
    charts: &[Chart<'_>],
) -> String {
    let width = PANEL_W * charts.len().max(1) as f64;
    let height = PANEL_H + HEADER;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="32" fill="#555">{}</text>"##,
        escape(subtitle)
    );
    for (i, chart) in charts.iter().enumerate() {
        let ox = PANEL_W * i as f64;
        let oy = HEADER;
        let x0 = ox + MARGIN_L;
        let x1 = ox + PANEL_W - MARGIN_R;
        // The points sit a little inside the axes so their labels clear the y labels.
        let (px0, px1) = (x0 + INSET, x1 - INSET);
        let y0 = oy + PANEL_H - MARGIN_B;
        let y1 = oy + MARGIN_T;
        let (step, top) = axis(chart.values.iter().copied().fold(0.0, f64::max));
        let px = |k: usize| {
            if xs.len() <= 1 {
                (px0 + px1) / 2.0
            } else {
                px0 + (px1 - px0) * k as f64 / (xs.len() - 1) as f64
            }
        };
        let py = |v: f64| y0 - (y0 - y1) * (v / top).clamp(0.0, 1.0);
        let _ = writeln!(s, r#"<g class="chart">"#);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
            (x0 + x1) / 2.0,
            oy + 20.0,
            escape(chart.title)
        );
        // Grid and y labels.
        let ticks = (top / step).round() as u32;
        for t in 0..=ticks {
            let v = step * f64::from(t);
            let y = py(v);
            let _ = writeln!(
                s,
                r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#ddd"/>"##
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                x0 - 6.0,
                y + 4.0,
                label(v)
            );
        }
        let _ = writeln!(
            s,
            r#"<text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            ox + 16.0,
            (y0 + y1) / 2.0,
            escape(chart.unit)
        );
        // Axes and x labels.
        let _ = writeln!(
            s,
            r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="#333"/>"##
        );
        let _ = writeln!(
            s,
            r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x0:.1}" y2="{y1:.1}" stroke="#333"/>"##
        );
        for (k, x) in xs.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{x}</text>"#,
                px(k),
                y0 + 16.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            y0 + 36.0,
            escape(x_label)
        );
        // The line, its points and their values.
        let n = xs.len().min(chart.values.len());
        let points: Vec<String> = (0..n)
            .map(|k| format!("{:.1},{:.1}", px(k), py(chart.values[k])))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            escape(chart.color),
            points.join(" ")
        );
        for k in 0..n {
            let (x, y) = (px(k), py(chart.values[k]));
            let _ = writeln!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{}"/>"#,
                escape(chart.color)
            );
            let _ = writeln!(
                s,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
                y - 8.0,
                label(chart.values[k])
            );
        }
        let _ = writeln!(s, "</g>");
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_charts_with_one_point_per_x() {
        let xs = [1, 2, 4, 8, 16];
        let rate = [10_000.0, 18_000.0, 25_000.0, 26_000.0, 25_500.0];
        let p99 = [5.0, 9.5, 20.0, 41.0, 80.0];
        let svg = line_charts(
            "ingest <sqlite>",
            "20 accounts",
            "clients (C)",
            &xs,
            &[
                Chart {
                    title: "throughput",
                    unit: "transactions/s",
                    values: &rate,
                    color: "#1f77b4",
                },
                Chart {
                    title: "p99 latency",
                    unit: "ms",
                    values: &p99,
                    color: "#d62728",
                },
            ],
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 2 * xs.len());
        for line in svg.lines().filter(|l| l.starts_with("<polyline")) {
            let points = line
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assert_eq!(points.split(' ').count(), xs.len());
            for p in points.split(' ') {
                let (x, y) = p.split_once(',').unwrap();
                assert!(x.parse::<f64>().is_ok() && y.parse::<f64>().is_ok());
            }
        }
        // The title is escaped, and every opened group is closed.
        assert!(svg.contains("ingest &lt;sqlite&gt;"));
        assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
    }

    #[test]
    fn axes_and_labels() {
        assert_eq!(axis(41_630.0), (20_000.0, 60_000.0));
        assert_eq!(axis(679.0), (200.0, 800.0));
        assert_eq!(axis(0.0), (1.0, 1.0));
        assert_eq!(label(12_500.0), "12.5k");
        assert_eq!(label(40_000.0), "40k");
        assert_eq!(label(38.0), "38");
        assert_eq!(label(63.84), "63.8");
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(26_000.0), 50_000.0);
        assert_eq!(nice_ceiling(100.0), 100.0);
    }
}
