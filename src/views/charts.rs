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
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
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
mod tests;
