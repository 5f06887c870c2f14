//! Statistics charts drawn on the server as inline SVG and HTML, so they show without
//! JavaScript and under a CSP that forbids inline styles: every look comes from classes in
//! `assets/charts.css`, with SVG presentation attributes as a plain fallback should that
//! stylesheet fail to load.
//!
//! Labels and titles are attacker-influenced (User-Agent strings, Referer hosts); they only
//! ever reach the page through maud, which escapes them.

use maud::{Markup, html};

/// One column of a time chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Short axis label, e.g. "14:00" or "25 Nov".
    pub label: String,
    /// Full tooltip, e.g. "25 Nov 2026, 14:00–15:00: 3 opens".
    pub title: String,
    /// The count drawn as the column's height.
    pub value: u64,
}

/// The SVG's coordinate system; CSS stretches it to the container's width and text scales
/// with it, which is why charts.css picks the font size from the container's width.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
/// Above the plot: a band where the hovered or focused column's title shows, because the
/// native `<title>` tooltip never appears for keyboard focus or on touch screens.
const READOUT_Y: f64 = 24.0;
const PLOT_TOP: f64 = 40.0;
const BASELINE: f64 = 220.0;
const LABEL_Y: f64 = 248.0;
const RIGHT_PAD: f64 = 4.0;
/// The largest font size charts.css gives chart text (on the narrowest charts), in viewBox
/// units: gutters and label spacing are reserved for it, so nothing collides on a phone.
const FONT_MAX: f64 = 24.0;
/// A generous average glyph width in em; overestimating only costs a little spacing.
const CHAR_EM: f64 = 0.6;
const LABEL_GAP: f64 = 12.0;
const MAX_LABELS: usize = 8;
/// Zero columns still show as a stub so the time axis reads as a sequence of periods.
/// Two units, not one: a phone draws the viewBox at half scale, where one unit would be
/// half a pixel and vanish into anti-aliasing.
const STUB: f64 = 2.0;
/// Non-zero columns are never shorter than this, so a 1 next to a 10 000 is still visibly
/// different from a 0.
const MIN_BAR: f64 = 3.0;
/// Keeps a chart of only a few columns from turning into wide slabs.
const MAX_BAR_WIDTH: f64 = 40.0;
/// Up to this many columns every one is a tab stop; beyond it only non-zero ones are, so
/// a week of hourly columns does not cost a keyboard user 168 presses to get past.
const FOCUS_ALL_UP_TO: usize = 60;

/// A column chart as inline SVG. `caption` is its accessible name and visible caption;
/// `empty` is shown over the (flat) chart when every value is zero.
///
/// Each column is a focusable `<g class="col">` whose `<title>` is the native tooltip and
/// whose title also appears in the readout band on hover and focus. The values are listed
/// once more in a visually hidden list, because the inside of a `role="img"` is not read.
pub fn columns(caption: &str, columns: &[Column], empty: &str) -> Markup {
    let id = format!("chart-{:08x}", fnv1a(caption));
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");

    let peak = columns.iter().max_by_key(|c| c.value);
    let max = peak.map_or(0, |c| c.value);
    let is_empty = max == 0;
    let scale = max.max(1);
    let top_label = count(scale);
    let summary = match peak {
        Some(peak) if !is_empty => {
            let total = columns
                .iter()
                .fold(0u64, |sum, c| sum.saturating_add(c.value));
            format!("Total {}. Highest: {}.", count(total), peak.title)
        }
        _ => empty.to_owned(),
    };

    let left = text_width(&top_label).max(text_width("0")) + 10.0;
    let right = WIDTH - RIGHT_PAD;
    let plot_w = right - left;
    let plot_h = BASELINE - PLOT_TOP;
    let slot = plot_w / columns.len().max(1) as f64;
    let bar_w = (slot * 0.72).min(MAX_BAR_WIDTH);
    let focus_all = columns.len() <= FOCUS_ALL_UP_TO;
    let labelled = label_indices(columns, left, slot);

    html! {
        figure class="chart" data-chart="columns" {
            figcaption class="chart-caption" { (caption) }
            div class="chart-plot" {
                svg class="chart-svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                    width=(WIDTH) height=(HEIGHT) preserveAspectRatio="xMidYMid meet"
                    role="img" aria-labelledby=(title_id) aria-describedby=(desc_id)
                    font-size="16" {
                    title id=(title_id) { (caption) }
                    desc id=(desc_id) { (summary) }
                    line class="grid" x1=(num(left)) x2=(num(right)) y1=(num(PLOT_TOP)) y2=(num(PLOT_TOP))
                        stroke="currentColor" stroke-opacity="0.2" {}
                    text class="tick" x=(num(left - 6.0)) y=(num(PLOT_TOP)) dy="0.35em"
                        text-anchor="end" fill="currentColor" { (top_label) }
                    text class="tick" x=(num(left - 6.0)) y=(num(BASELINE)) dy="0.35em"
                        text-anchor="end" fill="currentColor" { "0" }
                    @for (index, column) in columns.iter().enumerate() {
                        @let slot_x = left + slot * index as f64;
                        @let height = bar_height(column.value, scale, plot_h);
                        @let focusable = focus_all || column.value > 0;
                        g class="col" tabindex=[focusable.then_some("0")] data-value=(column.value) {
                            title { (column.title) }
                            // A full-height hit area: hovering a 3-unit bar would be fiddly.
                            rect class="hit" x=(num(slot_x)) y=(num(PLOT_TOP)) width=(num(slot))
                                height=(num(plot_h)) fill="none" pointer-events="all" {}
                            rect class=(if column.value == 0 { "bar zero" } else { "bar" })
                                x=(num(slot_x + (slot - bar_w) / 2.0)) y=(num(BASELINE - height))
                                width=(num(bar_w)) height=(num(height)) fill="currentColor" {}
                            text class="readout" x=(num(right)) y=(num(READOUT_Y))
                                text-anchor="end" fill="currentColor" visibility="hidden" { (column.title) }
                        }
                    }
                    // Drawn after the bars and half a unit low, so it runs under the stubs
                    // without hiding them.
                    line class="axis" x1=(num(left)) x2=(num(right)) y1=(num(BASELINE + 0.5))
                        y2=(num(BASELINE + 0.5)) stroke="currentColor" stroke-opacity="0.5" {}
                    @for &index in &labelled {
                        @let label = &columns[index].label;
                        @let centre = label_centre(label, index, left, slot);
                        text class="x-label" x=(num(centre)) y=(num(LABEL_Y)) text-anchor="middle"
                            fill="currentColor" { (label) }
                    }
                }
                @if is_empty && !empty.is_empty() {
                    p class="chart-empty" { (empty) }
                }
            }
            @if !columns.is_empty() {
                ol class="visually-hidden" {
                    @for column in columns { li { (column.title) } }
                }
            }
        }
    }
}

/// A labelled horizontal bar list for a breakdown (devices, OSes, browsers, referring
/// apps), in the order the caller sorted `rows`. Each row shows its count and share of the
/// total; rows past `limit` are folded into one "Other (n)" row, n being how many were
/// folded. A single leftover row is shown as itself: "Other (1)" would take the same line
/// and say less.
pub fn breakdown(caption: &str, rows: &[(String, u64)], limit: usize) -> Markup {
    let total = rows
        .iter()
        .fold(0u64, |sum, (_, count)| sum.saturating_add(*count));
    let mut shown: Vec<(String, u64, bool)> = Vec::new();
    if rows.len() <= limit.saturating_add(1) {
        shown.extend(rows.iter().map(|(label, n)| (label.clone(), *n, false)));
    } else {
        let (head, rest) = rows.split_at(limit);
        shown.extend(head.iter().map(|(label, n)| (label.clone(), *n, false)));
        let folded = rest.iter().fold(0u64, |sum, (_, n)| sum.saturating_add(*n));
        shown.push((format!("Other ({})", rest.len()), folded, true));
    }

    html! {
        figure class="breakdown" {
            figcaption { (caption) }
            @if total == 0 {
                p class="breakdown-empty" { "Nothing yet" }
            } @else {
                // list-style: none makes Safari drop the list semantics unless restated.
                ol role="list" {
                    @for (label, n, other) in &shown {
                        li class=(if *other { "breakdown-row other" } else { "breakdown-row" }) data-count=(n) {
                            span class="breakdown-label" title=(label) { (label) }
                            svg class="breakdown-bar" viewBox="0 0 100 4" preserveAspectRatio="none"
                                width="100%" height="8" aria-hidden="true" focusable="false" {
                                rect class="track" width="100" height="4" fill="currentColor" fill-opacity="0.12" {}
                                rect class="fill" width=(num(share_width(*n, total))) height="4" fill="currentColor" {}
                            }
                            span class="breakdown-count" { (count(*n)) " · " (percent(*n, total)) }
                        }
                    }
                }
            }
        }
    }
}

fn bar_height(value: u64, scale: u64, plot_h: f64) -> f64 {
    if value == 0 {
        STUB
    } else {
        (value as f64 / scale as f64 * plot_h).max(MIN_BAR)
    }
}

/// First, last and evenly spaced columns in between, as many as fit without overlapping
/// and never more than [`MAX_LABELS`].
fn label_indices(columns: &[Column], left: f64, slot: f64) -> Vec<usize> {
    let n = columns.len();
    if n == 0 {
        return Vec::new();
    }
    let widest = columns
        .iter()
        .map(|c| text_width(&c.label))
        .fold(0.0, f64::max)
        + LABEL_GAP;
    let fit = ((slot * n as f64 / widest).floor() as usize).clamp(2, MAX_LABELS);
    let last = n - 1;
    let candidates: Vec<usize> = if n <= fit {
        (0..n).collect()
    } else {
        // A regular step reads better on a time axis (every 6 hours) than exact spacing.
        let step = last.div_ceil(fit - 1);
        (0..last).step_by(step).chain([last]).collect()
    };
    // Keeping the outermost labels inside the chart pushes them towards their neighbours;
    // drop a crowded neighbour, never the first or the last label.
    let centre = |index: usize| label_centre(&columns[index].label, index, left, slot);
    let mut picked: Vec<usize> = Vec::with_capacity(candidates.len());
    for index in candidates {
        let crowds_previous = picked
            .last()
            .is_some_and(|&previous| centre(index) - centre(previous) < widest);
        let crowds_last = index != last && centre(last) - centre(index) < widest;
        if index == 0 || index == last || !(crowds_previous || crowds_last) {
            picked.push(index);
        }
    }
    picked
}

/// Under its column, moved inwards as far as needed to stay inside the viewBox.
fn label_centre(label: &str, index: usize, left: f64, slot: f64) -> f64 {
    let half = text_width(label) / 2.0;
    (left + slot * (index as f64 + 0.5)).clamp(half, (WIDTH - half).max(half))
}

/// Estimated at the largest font size, see [`FONT_MAX`].
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_EM * FONT_MAX
}

/// The bar's length in a 0–100 viewBox; a non-zero share gets at least one unit so it
/// does not look like nothing.
fn share_width(n: u64, total: u64) -> f64 {
    if n == 0 || total == 0 {
        0.0
    } else {
        (n as f64 / total as f64 * 100.0).clamp(1.0, 100.0)
    }
}

/// Rounded share; "<1 %" rather than a misleading "0 %" for a small non-zero count. The
/// no-break space keeps the number and its sign on one line.
fn percent(n: u64, total: u64) -> String {
    if total == 0 {
        return "0\u{a0}%".to_owned();
    }
    let rounded = (u128::from(n) * 100 + u128::from(total) / 2) / u128::from(total);
    if rounded == 0 && n > 0 {
        "<1\u{a0}%".to_owned()
    } else {
        format!("{rounded}\u{a0}%")
    }
}

/// Groups of three with a narrow no-break space from 10 000 on, as the SI style does; a
/// separator in four-digit numbers only makes short axis labels wider.
fn count(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() < 5 {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

/// Coordinates with at most two decimals: enough for the eye, short in the page.
fn num(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A stable id per caption, so `aria-labelledby` targets stay unique when a page shows
/// several charts and the markup is the same on every render.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
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
        let html =
            columns("Opens per hour", &hourly(&[0, 5, 10, 20]), "No opens yet").into_string();
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
                assert!(
                    *x - text_width(label) / 2.0 >= 0.0 && *x + text_width(label) / 2.0 <= WIDTH
                );
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
        assert!(
            html.starts_with("<figure class=\"breakdown\"><figcaption>Browsers</figcaption><ol")
        );
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
        let html = breakdown("Browsers", &[(format!("{evil}\" onmouseover=\"x"), 1)], 5)
            .into_string()
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
}
