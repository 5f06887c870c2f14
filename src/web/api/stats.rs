//! The owner's statistics and access log, authorised by the manage key as
//! `Authorization: Bearer <key>`: JSON for programs, CSV for spreadsheets, and HTML
//! fragments the statistics page swaps in as they change.

use std::sync::Arc;
use std::time::Duration;

use rocket::http::{ContentType, Header};
use rocket::serde::json::Json;
use rocket::tokio::time::{Instant, sleep, timeout_at};
use rocket::{Route, State, get, routes};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::domain::tracking::stats::Stats;
use crate::ids::GalleryId;
use crate::model::AccessRecord;
use crate::store::LogPage;
use crate::views;
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::keys::Bearer;
use crate::web::stream::Streamed;

/// Longest a live request waits for something new before answering with what is there.
const LONGEST_WAIT: Duration = Duration::from_secs(25);
/// After a commit, wait this long for more before reading: under heavy traffic a watcher
/// reads the statistics a few times a second, not once per commit.
const SETTLE: Duration = Duration::from_millis(250);
/// Records per page unless `limit` says otherwise, and the most a page may hold.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;
/// Rows per page of the statistics page's log table.
const PAGE_ROWS: usize = 25;

/// The statistics, and whether they changed from `wait` (the version the client has).
/// With `wait`, answers as soon as they differ, or after [`LONGEST_WAIT`] regardless.
pub async fn stats_after(
    app: &Arc<App>,
    id: &GalleryId,
    key: Option<String>,
    wait: Option<u64>,
) -> Result<Stats, WebError> {
    let mut commits = app.galleries.commits();
    let deadline = Instant::now() + LONGEST_WAIT;
    // Read what happened before this request, including records still on their way.
    app.galleries.flush().await?;
    loop {
        commits.borrow_and_update();
        let (lookup, key2) = (id.clone(), key.clone());
        let stats = blocking(app, move |app| {
            app.galleries
                .stats(&lookup, key2.as_deref(), app.clock.now())
        })
        .await??;
        if wait != Some(stats.version) {
            return Ok(stats);
        }
        match timeout_at(deadline, commits.changed()).await {
            Ok(Ok(())) => sleep(SETTLE).await,
            _ => return Ok(stats),
        }
    }
}

/// `GET /api/galleries/<id>/stats[?wait=<version>]`: headline numbers, breakdowns, per
/// image engagement and the time series. With `wait`, a long poll (see [`stats_after`]).
#[get("/<id>/stats?<wait>")]
async fn stats(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    wait: Option<u64>,
) -> Result<Json<Stats>, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    Ok(Json(stats_after(app.inner(), &id, key.0, wait).await?))
}

/// One log record as the API shows it.
#[derive(Serialize)]
struct RecordJson<'a> {
    /// Pass as `before` to continue after this record.
    cursor: String,
    time: String,
    event: &'static str,
    image: Option<u32>,
    detail: Option<&'a str>,
    device: &'a str,
    os: &'a str,
    browser: &'a str,
    referrer: &'a str,
    visitor: &'a str,
    ip: Option<&'a str>,
}

fn time_of(record: &AccessRecord) -> String {
    record
        .at_ms
        .time()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn record_json(seq: u64, record: &AccessRecord) -> RecordJson<'_> {
    RecordJson {
        cursor: seq.to_string(),
        time: time_of(record),
        event: record.kind.as_str(),
        image: record.image,
        detail: record.detail.as_deref(),
        device: &record.device,
        os: &record.os,
        browser: &record.browser,
        referrer: &record.referrer,
        visitor: &record.visitor,
        ip: record.ip.as_deref(),
    }
}

#[derive(Serialize)]
struct LogJson<'a> {
    records: Vec<RecordJson<'a>>,
    /// Cursor of the next (older) page, `null` at the oldest record.
    next: Option<String>,
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 11] = [
    "cursor", "time", "event", "image", "detail", "device", "os", "browser", "referrer", "visitor",
    "ip",
];

/// A cell a spreadsheet will show as text: one that starts like a formula (`=`, `+`, `-`,
/// `@`, or a tab or carriage return before one) gets a leading `'` (OWASP's advice), since
/// User-Agent and Referer text is whatever the visitor sent.
fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_row(seq: u64, record: &AccessRecord) -> [String; 11] {
    csv_cells(seq, record).map(inert)
}

fn csv_cells(seq: u64, record: &AccessRecord) -> [String; 11] {
    let r = record_json(seq, record);
    [
        r.cursor,
        r.time,
        r.event.to_owned(),
        r.image.map(|i| i.to_string()).unwrap_or_default(),
        r.detail.unwrap_or_default().to_owned(),
        r.device.to_owned(),
        r.os.to_owned(),
        r.browser.to_owned(),
        r.referrer.to_owned(),
        r.visitor.to_owned(),
        r.ip.unwrap_or_default().to_owned(),
    ]
}

/// A log response in the format asked for.
#[derive(rocket::Responder)]
enum LogResponse {
    Text((ContentType, String)),
    Csv(Streamed),
}

fn parse_cursor(before: Option<&str>) -> Result<Option<u64>, WebError> {
    before
        .filter(|b| !b.is_empty())
        .map(|b| {
            b.parse::<u64>().map_err(|_| {
                WebError::BadRequest("`before` must be a cursor from a previous page".into())
            })
        })
        .transpose()
}

/// `GET /api/galleries/<id>/log?format=json|csv&before=<cursor>&limit=<n>`: the access
/// log, newest first. JSON pages hold `limit` records (default 100, at most 1000) and the
/// cursor of the next page. CSV has a header row; without `limit` it is the whole log,
/// streamed (a report to download).
#[get("/<id>/log?<format>&<before>&<limit>")]
async fn log(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    format: Option<&str>,
    before: Option<&str>,
    limit: Option<usize>,
) -> Result<LogResponse, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let before = parse_cursor(before)?;
    if limit == Some(0) || limit.is_some_and(|l| l > MAX_PAGE) {
        return Err(
            WebError::BadRequest(format!("`limit` must be between 1 and {MAX_PAGE}")).into(),
        );
    }
    let csv = match format.unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(WebError::BadRequest(format!(
                "`format` must be json or csv, not {other:?}"
            ))
            .into());
        }
    };
    if csv && limit.is_none() {
        // The whole log: check the key now, then stream.
        app.galleries.flush().await?;
        let lookup = id.clone();
        blocking(app.inner(), move |app| {
            app.galleries.authorize(&lookup, key.0.as_deref())
        })
        .await??;
        let app = Arc::clone(app.inner());
        let filename = format!("maiimg-{id}-log.csv");
        return Ok(LogResponse::Csv(Streamed::spawn(
            "text/csv; charset=utf-8",
            filename,
            move |out| {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(CSV_HEADER)?;
                let mut failed = None;
                let walked = app.galleries.log_each(&id, |seq, record| {
                    match writer.write_record(csv_row(seq, &record)) {
                        Ok(()) => true,
                        Err(e) => {
                            failed = Some(e);
                            false
                        }
                    }
                });
                if let Some(e) = failed {
                    return Err(e.into());
                }
                walked.map_err(|e| std::io::Error::other(e.to_string()))?;
                writer.flush()
            },
        )));
    }
    app.galleries.flush().await?;
    let lookup = id.clone();
    let page: LogPage = blocking(app.inner(), move |app| {
        app.galleries.log_page(
            &lookup,
            key.0.as_deref(),
            before,
            limit.unwrap_or(DEFAULT_PAGE),
        )
    })
    .await??;
    if csv {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut write = || -> Result<Vec<u8>, csv::Error> {
            writer.write_record(CSV_HEADER)?;
            for (seq, record) in &page.records {
                writer.write_record(csv_row(*seq, record))?;
            }
            writer.flush()?;
            Ok(writer.get_ref().clone())
        };
        let bytes = write().map_err(WebError::internal)?;
        let text = String::from_utf8(bytes).map_err(WebError::internal)?;
        return Ok(LogResponse::Text((ContentType::new("text", "csv"), text)));
    }
    let body = LogJson {
        records: page
            .records
            .iter()
            .map(|(seq, record)| record_json(*seq, record))
            .collect(),
        next: page.next.map(|n| n.to_string()),
    };
    let text = serde_json::to_string(&body).map_err(WebError::internal)?;
    Ok(LogResponse::Text((ContentType::JSON, text)))
}

/// An HTML fragment for the statistics page, with a header its script reads.
#[derive(rocket::Responder)]
struct Fragment {
    body: (ContentType, String),
    header: Header<'static>,
}

/// The owner's time zone as the page's script reports it (UTC if unknown).
fn zone(tz: Option<&str>) -> jiff::tz::TimeZone {
    tz.and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// `GET /api/galleries/<id>/stats/panel?wait=<version>&tz=<zone>`: the statistics as the
/// page shows them; `X-Stats-Version` tells the script what to wait on next.
#[get("/<id>/stats/panel?<wait>&<tz>")]
async fn panel(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    wait: Option<u64>,
    tz: Option<&str>,
) -> Result<Fragment, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let stats = stats_after(app.inner(), &id, key.0, wait).await?;
    Ok(Fragment {
        body: (
            ContentType::HTML,
            views::stats::panel(&stats, &zone(tz)).into_string(),
        ),
        header: Header::new("X-Stats-Version", stats.version.to_string()),
    })
}

/// `GET /api/galleries/<id>/log/rows?before=<cursor>&tz=<zone>`: a page of the access log
/// as table rows; `X-Next-Cursor` is the next (older) page's cursor, empty at the end.
#[get("/<id>/log/rows?<before>&<tz>")]
async fn log_rows(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    before: Option<&str>,
    tz: Option<&str>,
) -> Result<Fragment, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let before = parse_cursor(before)?;
    app.galleries.flush().await?;
    let page = blocking(app.inner(), move |app| {
        app.galleries
            .log_page(&id, key.0.as_deref(), before, PAGE_ROWS)
    })
    .await??;
    Ok(Fragment {
        body: (
            ContentType::HTML,
            views::stats::log_rows(&page.records, &zone(tz)).into_string(),
        ),
        header: Header::new(
            "X-Next-Cursor",
            page.next.map(|n| n.to_string()).unwrap_or_default(),
        ),
    })
}

pub fn routes() -> Vec<Route> {
    routes![stats, log, panel, log_rows]
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formula_starts_are_quoted_and_other_text_is_left_alone() {
        for formula in ["=1+1", "+1", "-1-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(inert(formula.into()), format!("'{formula}"));
        }
        for text in ["Safari", "1-1", "", "a=b", "'quoted"] {
            assert_eq!(inert(text.into()), text);
        }
    }
}
