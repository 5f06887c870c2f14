//! Tests of `charts`.

use std::collections::HashMap;

use super::*;

/// The attributes of every `<name …>` start tag, in document order.
fn tags(html: &str, name: &str) -> Vec<HashMap<String, String>> {
    let open = format!("<{name} ");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find('>').expect("tag closes");
        let mut attrs = HashMap::new();
        let mut text = &after[..end];
        while let Some(eq) = text.find("=\"") {
            let key = text[..eq].trim().to_owned();
            let value_start = eq + 2;
            let value_len = text[value_start..].find('"').expect("quoted value");
            attrs.insert(key, text[value_start..value_start + value_len].to_owned());
            text = &text[value_start + value_len + 1..];
        }
        found.push(attrs);
        rest = &after[end..];
    }
    found
}

fn class_is(attrs: &HashMap<String, String>, class: &str) -> bool {
    attrs
        .get("class")
        .is_some_and(|c| c.split(' ').any(|c| c == class))
}

fn number(attrs: &HashMap<String, String>, key: &str) -> f64 {
    attrs
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing"))
        .parse()
        .expect("a number")
}

fn bars(html: &str) -> Vec<HashMap<String, String>> {
    tags(html, "rect")
        .into_iter()
        .filter(|attrs| class_is(attrs, "bar"))
        .collect()
}

fn hourly(values: &[u64]) -> Vec<Column> {
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| Column {
            label: format!("{:02}:00", i % 24),
            title: format!("25 Nov 2026, {:02}:00: {value} opens", i % 24),
            value,
        })
        .collect()
}

#[test]
fn one_bar_per_column_in_proportion_to_the_values() {
    let html = columns("Opens per hour", &hourly(&[0, 5, 10, 20]), "No opens yet").into_string();
    let bars = bars(&html);
    assert_eq!(bars.len(), 4);
    let heights: Vec<f64> = bars.iter().map(|b| number(b, "height")).collect();
    let plot = BASELINE - PLOT_TOP;
    assert_eq!(heights, vec![STUB, plot / 4.0, plot / 2.0, plot]);
    for bar in &bars {
        assert_eq!(number(bar, "y") + number(bar, "height"), BASELINE);
    }
    assert!(class_is(&bars[0], "zero"));
    assert!(!class_is(&bars[3], "zero"));
    assert!(
        html.contains(">20</text>"),
        "max value labels the top gridline"
    );
    assert!(html.contains(">0</text>"));
    assert!(!html.contains("chart-empty"));
}

#[test]
fn every_column_has_its_tooltip_and_is_focusable() {
    let html = columns("Opens", &hourly(&[1, 0, 3]), "No opens yet").into_string();
    for title in ["25 Nov 2026, 00:00: 1 opens", "25 Nov 2026, 01:00: 0 opens"] {
        assert!(html.contains(&format!("<title>{title}</title>")), "{title}");
    }
    let groups = tags(&html, "g");
    assert_eq!(groups.len(), 3);
    assert!(
        groups
            .iter()
            .all(|g| g.get("tabindex").is_some_and(|t| t == "0"))
    );
    assert!(html.contains("role=\"img\""));
    let svg = &tags(&html, "svg")[0];
    let title_id = &svg["aria-labelledby"];
    assert!(html.contains(&format!("<title id=\"{title_id}\">Opens</title>")));
    assert_eq!(svg["preserveAspectRatio"], "xMidYMid meet");
}

#[test]
fn long_charts_focus_only_non_zero_columns() {
    let mut values = vec![0; 100];
    values[3] = 2;
    values[50] = 1;
    values[99] = 7;
    let html = columns("Opens", &hourly(&values), "No opens yet").into_string();
    let focusable = tags(&html, "g")
        .iter()
        .filter(|g| g.contains_key("tabindex"))
        .count();
    assert_eq!(focusable, 3);
    assert_eq!(bars(&html).len(), 100);
}

/// The rendered x-axis labels as (text, x).
fn x_labels(html: &str) -> Vec<(String, f64)> {
    html.split("<text ")
        .skip(1)
        .filter(|t| t.starts_with("class=\"x-label\""))
        .map(|t| {
            let attrs = &tags(&format!("<text {t}"), "text")[0];
            let (_, rest) = t.split_once('>').expect("tag closes");
            let (text, _) = rest.split_once("</text>").expect("text closes");
            (text.to_owned(), number(attrs, "x"))
        })
        .collect()
}

#[test]
fn axis_labels_are_thinned_and_do_not_collide() {
    for n in [1, 2, 5, 7, 8, 9, 24, 44, 48, 49, 50, 100, 168, 720] {
        let html = columns("Opens", &hourly(&vec![1; n]), "").into_string();
        let labels = x_labels(&html);
        assert!(labels.len() <= 8, "{n} columns: {labels:?}");
        assert_eq!(labels[0].0, "00:00", "{n} columns: first is labelled");
        let last = format!("{:02}:00", (n - 1) % 24);
        assert_eq!(
            labels[labels.len() - 1].0,
            last,
            "{n} columns: last is labelled"
        );
        // "00:00" is five characters: centres must be at least that far apart at the
        // largest font size, or neighbouring labels overlap on a phone.
        for pair in labels.windows(2) {
            assert!(
                pair[1].1 - pair[0].1 >= text_width("00:00"),
                "{n} columns: {pair:?}"
            );
        }
        for (label, x) in &labels {
            assert!(*x - text_width(label) / 2.0 >= 0.0 && *x + text_width(label) / 2.0 <= WIDTH);
        }
    }
    let html = columns("Opens", &hourly(&[1; 48]), "").into_string();
    assert!(
        x_labels(&html).len() >= 6,
        "48 columns still get a readable axis"
    );

    // Wide labels leave room for fewer of them.
    let wide: Vec<Column> = (0..48)
        .map(|i| Column {
            label: format!("Wednesday {i}"),
            title: String::new(),
            value: 1,
        })
        .collect();
    let html = columns("Opens", &wide, "").into_string();
    assert!(x_labels(&html).len() < 6);
}

#[test]
fn all_zero_still_draws_with_the_empty_state() {
    let html = columns("Opens", &hourly(&[0; 24]), "No opens yet").into_string();
    assert!(html.contains("<p class=\"chart-empty\">No opens yet</p>"));
    let stubs = bars(&html);
    assert_eq!(stubs.len(), 24);
    assert!(stubs.iter().all(|b| number(b, "height") == STUB));
    assert!(html.contains(">1</text>"), "scale max is 1");

    let none = columns("Opens", &[], "No opens yet").into_string();
    assert!(none.contains("No opens yet"));
    assert!(bars(&none).is_empty());
    let silent = columns("Opens", &hourly(&[0; 3]), "").into_string();
    assert!(!silent.contains("chart-empty"));
}

#[test]
fn tiny_values_stay_visible() {
    let html = columns("Opens", &hourly(&[1, 0, 100_000]), "").into_string();
    let heights: Vec<f64> = bars(&html).iter().map(|b| number(b, "height")).collect();
    assert_eq!(heights, vec![MIN_BAR, STUB, BASELINE - PLOT_TOP]);
    assert!(html.contains(">100\u{202f}000</text>"));
}

#[test]
fn markup_fits_a_strict_csp_and_closes_every_svg_element() {
    let html = columns("Opens", &hourly(&[1, 2, 0]), "No opens yet").into_string()
        + &breakdown("Browsers", &[("Firefox".into(), 3)], 5).into_string();
    assert!(!html.contains("style="));
    assert!(!html.contains("<style"));
    assert!(!html.contains("<script"));
    // Inline SVG is parsed as foreign content, where `<rect>` without an end tag
    // would swallow its siblings.
    for name in ["rect", "line", "text", "g", "svg"] {
        assert_eq!(
            html.matches(&format!("<{name} ")).count(),
            html.matches(&format!("</{name}>")).count(),
            "{name}"
        );
    }
}

#[test]
fn breakdown_shows_counts_and_rounded_shares() {
    let rows = vec![("Chrome".to_owned(), 12), ("Firefox".to_owned(), 18)];
    let html = breakdown("Browsers", &rows, 5).into_string();
    assert!(html.starts_with("<figure class=\"breakdown\"><figcaption>Browsers</figcaption><ol"));
    assert!(html.contains("12 · 40\u{a0}%"));
    assert!(html.contains("18 · 60\u{a0}%"));
    let fills: Vec<f64> = tags(&html, "rect")
        .iter()
        .filter(|r| class_is(r, "fill"))
        .map(|r| number(r, "width"))
        .collect();
    assert_eq!(fills, vec![40.0, 60.0]);
    assert_eq!(tags(&html, "svg")[0]["aria-hidden"], "true");

    assert_eq!(percent(1, 3), "33\u{a0}%");
    assert_eq!(percent(2, 3), "67\u{a0}%");
    assert_eq!(percent(1, 1000), "<1\u{a0}%");
    assert_eq!(percent(0, 1000), "0\u{a0}%");
}

#[test]
fn breakdown_folds_the_tail_into_other() {
    let rows: Vec<(String, u64)> = [
        ("A", 50),
        ("B", 20),
        ("C", 10),
        ("D", 9),
        ("E", 6),
        ("F", 5),
    ]
    .iter()
    .map(|(l, n)| ((*l).to_owned(), *n))
    .collect();
    let html = breakdown("Apps", &rows, 3).into_string();
    let items = tags(&html, "li");
    assert_eq!(items.len(), 4);
    assert!(html.contains(">Other (3)</span>"));
    assert_eq!(items[3]["data-count"], "20");
    assert!(class_is(&items[3], "other"));
    assert!(html.contains("20 · 20\u{a0}%"));
    assert!(!html.contains(">D</span>"));

    // One leftover row is shown as itself rather than as "Other (1)".
    let html = breakdown("Apps", &rows, 5).into_string();
    assert_eq!(tags(&html, "li").len(), 6);
    assert!(!html.contains("Other"));
}

#[test]
fn empty_breakdown_says_nothing_yet() {
    for rows in [vec![], vec![("Safari".to_owned(), 0)]] {
        let html = breakdown("Devices", &rows, 5).into_string();
        assert!(html.contains("<p class=\"breakdown-empty\">Nothing yet</p>"));
        assert!(!html.contains("<ol"));
    }
}

#[test]
fn labels_are_escaped() {
    let evil = "<script>alert(1)</script>";
    let html = breakdown("Browsers", &[(format!("{evil}\" onmouseover=\"x"), 1)], 5).into_string()
        + &columns(
            "Opens",
            &[Column {
                label: evil.to_owned(),
                title: format!("{evil}\" onmouseover=\"x"),
                value: 1,
            }],
            evil,
        )
        .into_string();
    assert!(!html.contains("<script"));
    assert!(!html.contains("\" onmouseover"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn numbers_and_coordinates_are_short() {
    assert_eq!(count(1234), "1234");
    assert_eq!(count(12_345), "12\u{202f}345");
    assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
    assert_eq!(num(160.0), "160");
    assert_eq!(num(0.0), "0");
    assert_eq!(num(10.5), "10.5");
    assert_eq!(num(1.0 / 3.0), "0.33");
}
