//! The owner's statistics page: a shell, and the fragments its script swaps in as the
//! numbers change (the panel, and pages of the access log). Times are shown in the owner's
//! time zone, which the script passes along.

use jiff::tz::TimeZone;
use maud::{Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::charts::{self, Column, breakdown};
use super::layout::{Shell, render};
use crate::domain::access::zoned;
use crate::domain::tracking::stats::Stats;
use crate::model::{AccessRecord, EventKind};

/// Rows shown in each breakdown before the rest is folded into "Other".
const BREAKDOWN_ROWS: usize = 8;

/// The page shell for gallery `id`.
pub fn page(id: &str) -> Markup {
    let shell = Shell {
        title: "Statistics",
        page: "stats",
        reason: None,
        scripts: &["store.js", "api.js", "stats.js"],
        styles: &["charts.css"],
    };
    render(
        &shell,
        html! {
            main id="main" class="wide" data-gallery-id=(id) {
                p class="back" { a id="back-to-manage" href={ "/m/" (id) } { "← Manage gallery" } }
                h1 id="stats-heading" { "Statistics" }
                p id="stats-status" class="notice" role="status" aria-live="polite" { "Loading…" }
                form id="key-form" hidden {
                    label for="key-input" { "Paste the manage link or key" }
                    div class="copy-row" {
                        input type="password" id="key-input" autocomplete="off" required;
                        button type="submit" class="button primary" { "Open" }
                    }
                }
                div id="stats-panel" {}
                section id="log-section" hidden aria-labelledby="log-heading" {
                    div class="section-head" {
                        h2 id="log-heading" { "Access log" }
                        div class="actions" {
                            button type="button" id="export-csv" class="button" { "Download CSV" }
                            button type="button" id="export-json" class="button" { "Statistics as JSON" }
                        }
                    }
                    div class="table-scroll" {
                        table id="log-table" {
                            caption class="visually-hidden" { "Every visit, newest first" }
                            thead {
                                tr {
                                    th scope="col" { "Time" }
                                    th scope="col" { "Event" }
                                    th scope="col" { "Device" }
                                    th scope="col" { "System" }
                                    th scope="col" { "Browser" }
                                    th scope="col" { "From" }
                                    th scope="col" { "Visitor" }
                                    th scope="col" { "Address" }
                                }
                            }
                            tbody id="log-rows" {}
                        }
                    }
                    nav class="pager" aria-label="Access log pages" {
                        button type="button" id="log-newest" class="button" disabled { "Newest" }
                        button type="button" id="log-older" class="button" disabled { "Older" }
                    }
                }
            }
        },
    )
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Seconds as a short duration: "3 days", "5 hours", "12 minutes".
fn duration(seconds: i64) -> String {
    let s = seconds.max(0) as u64;
    match s {
        0 => "expired".into(),
        s if s >= 2 * 86_400 => plural(s / 86_400, "day", "days"),
        s if s >= 2 * 3_600 => plural(s / 3_600, "hour", "hours"),
        s => plural((s / 60).max(1), "minute", "minutes"),
    }
}

/// A refusal reason in the owner's words.
fn refused_because(reason: &str, n: u64) -> String {
    let times = plural(n, "time", "times");
    match reason {
        "expired" => format!(
            "{} tried after it expired",
            plural(n, "visitor", "visitors")
        ),
        "limit" => format!(
            "{} came after the view limit was reached",
            plural(n, "visitor", "visitors")
        ),
        "disabled" => format!(
            "{} tried while the link was off",
            plural(n, "visitor", "visitors")
        ),
        "scheduled" => format!("{} came before it opened", plural(n, "visitor", "visitors")),
        "ended" => format!("{} came after it closed", plural(n, "visitor", "visitors")),
        "hours" => format!(
            "{} came outside its daily hours",
            plural(n, "visitor", "visitors")
        ),
        "password" => format!("Asked for the password {times}"),
        other => format!("Refused ({other}) {times}"),
    }
}

fn rows(counts: &[crate::domain::tracking::stats::Count]) -> Vec<(String, u64)> {
    counts.iter().map(|c| (c.name.clone(), c.count)).collect()
}

fn device_rows(counts: &[crate::domain::tracking::stats::Count]) -> Vec<(String, u64)> {
    counts
        .iter()
        .map(|c| {
            let mut label = c.name.clone();
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            (label, c.count)
        })
        .collect()
}

fn at(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn local(zone: &TimeZone, t: OffsetDateTime, format: &str) -> String {
    zoned(zone, t).strftime(format).to_string()
}

/// The statistics panel.
pub fn panel(stats: &Stats, zone: &TimeZone) -> Markup {
    let hourly: Vec<Column> = stats
        .hourly
        .iter()
        .map(|h| {
            let t = at(&h.hour);
            Column {
                label: local(zone, t, "%H:%M"),
                title: format!(
                    "{}–{}: {}",
                    local(zone, t, "%a %-d %b, %H:%M"),
                    local(zone, t + time::Duration::HOUR, "%H:%M"),
                    plural(h.opens, "open", "opens")
                ),
                value: h.opens,
            }
        })
        .collect();
    let daily: Vec<Column> = stats
        .daily
        .iter()
        .map(|d| {
            let label = jiff::civil::Date::strptime("%Y-%m-%d", &d.date)
                .map(|date| date.strftime("%-d %b").to_string())
                .unwrap_or_else(|_| d.date.clone());
            Column {
                title: format!("{}: {}", d.date, plural(d.opens, "open", "opens")),
                label,
                value: d.opens,
            }
        })
        .collect();
    let refused: u64 = stats.denied.iter().map(|c| c.count).sum();
    html! {
        @if !stats.tracking {
            p class="notice" { "This server does not keep access logs: only the number of opens is counted." }
        }
        ul class="headline" aria-label="In numbers" {
            li { span class="number" data-stat="opens" { (stats.opens) } span class="label" { "opens" } }
            li { span class="number" data-stat="unique_visitors" { (stats.unique_visitors) } span class="label" { "unique visitors" } }
            li {
                span class="number" data-stat="opens_left" {
                    @match stats.opens_left { Some(n) => (n), None => "∞" }
                }
                span class="label" { "opens left" }
            }
            li {
                span class="number" data-stat="time_left" {
                    @match stats.seconds_left { Some(s) => (duration(s)), None => "∞" }
                }
                span class="label" { "time left" }
            }
            li { span class="number" data-stat="previews" { (stats.previews) } span class="label" { "link previews by apps" } }
            li { span class="number" data-stat="refused" { (refused) } span class="label" { "refused attempts" } }
        }
        @if !stats.denied.is_empty() {
            ul class="refusals" aria-label="Refused attempts" {
                @for c in &stats.denied { li { (refused_because(&c.name, c.count)) } }
            }
        }
        div class="charts" {
            (charts::columns("Opens in the last 48 hours", &hourly, "No opens in the last 48 hours"))
            (charts::columns("Opens per day", &daily, "No opens yet"))
        }
        div class="breakdowns" {
            (breakdown("Devices", &device_rows(&stats.devices), BREAKDOWN_ROWS))
            (breakdown("Operating systems", &rows(&stats.os), BREAKDOWN_ROWS))
            (breakdown("Browsers", &rows(&stats.browsers), BREAKDOWN_ROWS))
            (breakdown("Came from", &rows(&stats.referrers), BREAKDOWN_ROWS))
            (breakdown("Link previews", &rows(&stats.previews_by_bot), BREAKDOWN_ROWS))
        }
        section aria-labelledby="images-heading" {
            h2 id="images-heading" { "Photos" }
            p class="meta" {
                "Views in the full-size viewer (once per visitor and day) and downloads of the original"
                @if stats.zip_downloads > 0 { " · " (plural(stats.zip_downloads, "download", "downloads")) " of all photos as a ZIP" }
                "."
            }
            ol class="engagement" {
                @for image in &stats.images {
                    li data-index=(image.index) data-views=(image.views) {
                        img data-thumb=(image.index) alt={ "Photo " (image.index + 1) ": " (image.name) } width="96" height="96";
                        span class="engagement-name" { "#" (image.index + 1) " " (image.name) }
                        span class="engagement-counts" {
                            (plural(image.views, "view", "views")) " · " (plural(image.downloads, "download", "downloads"))
                        }
                    }
                }
            }
        }
    }
}

fn event_words(record: &AccessRecord) -> String {
    let image = record.image.map(|i| i + 1).unwrap_or_default();
    let detail = record.detail.as_deref().unwrap_or("");
    match record.kind {
        EventKind::Open => "Opened".into(),
        EventKind::Reload => "Reloaded".into(),
        EventKind::Preview => format!("Link preview ({detail})"),
        EventKind::Denied => format!("Refused: {detail}"),
        EventKind::View => format!("Viewed photo {image}"),
        EventKind::Download => format!("Downloaded photo {image}"),
        EventKind::Zip => "Downloaded all (ZIP)".into(),
        EventKind::MoreOpens => format!("{detail} more opens from this network"),
    }
}

/// Rows of the access-log table.
pub fn log_rows(records: &[(u64, AccessRecord)], zone: &TimeZone) -> Markup {
    html! {
        @if records.is_empty() {
            tr { td colspan="8" class="meta" { "Nothing recorded yet." } }
        }
        @for (seq, record) in records {
            @let t = record.at_ms.time().unwrap_or(OffsetDateTime::UNIX_EPOCH);
            tr data-cursor=(seq) data-event=(record.kind.as_str()) {
                td { time datetime=(t.format(&Rfc3339).unwrap_or_default()) { (local(zone, t, "%Y-%m-%d %H:%M:%S")) } }
                td { (event_words(record)) }
                td { (record.device) }
                td { (record.os) }
                td { (record.browser) }
                td { (record.referrer) }
                td class="mono" { (record.visitor) }
                td class="mono" { (record.ip.as_deref().unwrap_or("—")) }
            }
        }
    }
}
