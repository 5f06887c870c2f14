//! A gallery's statistics, assembled from its stored roll-ups.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::tracking::keys::{DAY, HOUR, hour_of, image_key, local_day};
use crate::model::GalleryRecord;
use crate::store::RawStats;

/// Hours shown in the recent chart.
pub const RECENT_HOURS: u64 = 48;
/// Longest daily series returned (ten years).
const MAX_DAYS: u64 = 3_660;

/// A named count, e.g. `{"name": "phone", "count": 12}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What was counted.
    pub name: String,
    /// How often.
    pub count: u64,
}

/// Opens in one hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HourCount {
    /// Start of the hour (RFC 3339, UTC).
    pub hour: String,
    /// Opens in it.
    pub opens: u64,
}

/// Opens on one day in the gallery's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// Opens on it.
    pub opens: u64,
}

/// Engagement of one image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageStats {
    /// Its position in the gallery.
    pub index: usize,
    /// Its file name.
    pub name: String,
    /// Viewers who opened it in the lightbox (once per viewer a day).
    pub views: u64,
    /// Downloads of its original.
    pub downloads: u64,
}

/// Everything the owner's statistics show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Whether this instance keeps access logs (when off, only `opens` is counted).
    pub tracking: bool,
    /// Opens counted against the limit.
    pub opens: u64,
    /// Distinct visitors (per day: a visitor returning another day counts again).
    pub unique_visitors: u64,
    /// Opens left under the view limit, `null` when unlimited.
    pub opens_left: Option<u64>,
    /// Seconds until expiry, `null` when it never expires (0 once expired).
    pub seconds_left: Option<i64>,
    /// Reloads by admitted viewers.
    pub reloads: u64,
    /// Link previews fetched by bots.
    pub previews: u64,
    /// Previews by bot.
    pub previews_by_bot: Vec<Count>,
    /// Refused attempts by reason (`expired`, `limit`, …).
    pub denied: Vec<Count>,
    /// Opens by device class.
    pub devices: Vec<Count>,
    /// Opens by operating system.
    pub os: Vec<Count>,
    /// Opens by browser.
    pub browsers: Vec<Count>,
    /// Opens by referring app or host.
    pub referrers: Vec<Count>,
    /// Per image, the most viewed first.
    pub images: Vec<ImageStats>,
    /// Downloads of the whole gallery as a ZIP.
    pub zip_downloads: u64,
    /// Opens per hour over the last 48 hours, oldest first.
    pub hourly: Vec<HourCount>,
    /// Opens per day since the gallery was created, oldest first.
    pub daily: Vec<DayCount>,
    /// Changes whenever a record is added (for live updates).
    pub version: u64,
}

/// The first hour of the recent chart ending at `now`.
pub fn first_recent_hour(now: OffsetDateTime) -> u64 {
    hour_of(now).saturating_sub(RECENT_HOURS - 1)
}

fn rfc3339(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn date_of_day(day: u64) -> String {
    OffsetDateTime::from_unix_timestamp(i64::try_from(day).unwrap_or(0) * DAY)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// Sort counts, largest first, ties by name.
fn ranked(mut counts: Vec<Count>) -> Vec<Count> {
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    counts
}

/// Assemble the statistics of `record` from its roll-ups (`raw.hourly` read from
/// [`first_recent_hour`] on) and its open count.
pub fn assemble(
    record: &GalleryRecord,
    opens: u64,
    raw: &RawStats,
    tracking: bool,
    now: OffsetDateTime,
) -> Stats {
    let mut groups: std::collections::HashMap<&str, Vec<Count>> = Default::default();
    let single = |name: &str| -> u64 {
        raw.counters
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    };
    let unique_visitors = single("visitors");
    let reloads = single("reloads");
    let previews = single("previews");
    let zip_downloads = single("zip");
    for (name, count) in &raw.counters {
        if let Some((group, value)) = name.split_once(':') {
            groups.entry(group).or_default().push(Count {
                name: value.to_owned(),
                count: *count,
            });
        }
    }
    let mut take = |group: &str| ranked(groups.remove(group).unwrap_or_default());
    let views = take("view");
    let downloads = take("download");
    let lookup =
        |counts: &[Count], key: &str| counts.iter().find(|c| c.name == key).map_or(0, |c| c.count);
    let mut images: Vec<ImageStats> = record
        .images
        .iter()
        .enumerate()
        .map(|(index, image)| {
            let key = image_key(&image.original.digest);
            ImageStats {
                index,
                name: image.name.clone(),
                views: lookup(&views, &key),
                downloads: lookup(&downloads, &key),
            }
        })
        .collect();
    images.sort_by(|a, b| {
        (b.views, b.downloads)
            .cmp(&(a.views, a.downloads))
            .then(a.index.cmp(&b.index))
    });

    let first_hour = first_recent_hour(now);
    let hourly = (first_hour..=hour_of(now))
        .map(|hour| HourCount {
            hour: rfc3339(i64::try_from(hour).unwrap_or(0) * HOUR),
            opens: raw
                .hourly
                .iter()
                .find(|(h, _)| *h == hour)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let today = local_day(&record.settings, now);
    let first_day = local_day(&record.settings, record.created_at)
        .min(today)
        .max(today.saturating_sub(MAX_DAYS - 1));
    let mut by_day = raw.daily.iter().peekable();
    let daily = (first_day..=today)
        .map(|day| {
            while by_day.next_if(|(d, _)| *d < day).is_some() {}
            let opens = by_day.next_if(|(d, _)| *d == day).map_or(0, |(_, n)| *n);
            DayCount {
                date: date_of_day(day),
                opens,
            }
        })
        .collect();

    let settings = &record.settings;
    Stats {
        tracking,
        opens,
        unique_visitors,
        opens_left: settings.max_opens.map(|max| max.saturating_sub(opens)),
        seconds_left: settings
            .expires_at
            .map(|at| (at - now).whole_seconds().max(0)),
        reloads,
        previews,
        previews_by_bot: take("bot"),
        denied: take("denied"),
        devices: take("device"),
        os: take("os"),
        browsers: take("browser"),
        referrers: take("ref"),
        images,
        zip_downloads,
        hourly,
        daily,
        version: raw.version + opens,
    }
}
