//! Reading the access log and its roll-ups, and pruning old records.
//!
//! Everything here is a key range of one gallery, never a scan of a table: the statistics
//! of a gallery opened a million times read a few hundred counter rows and the series, and
//! a page of its log is one bounded range read.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::tables::{COUNTERS, GALLERIES, LOG, SEEN, day_counter, hour_counter};
use super::{Result, Store, decode};
use crate::ids::GalleryId;
use crate::model::AccessRecord;

/// Above every counter name (names are short ASCII).
const LAST_NAME: &str = "\u{10ffff}";
/// Where the series start: after every named counter.
const SERIES: &str = "~";

/// The stored roll-ups of one gallery, as the domain turns them into statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawStats {
    /// Every counter by name, in name order.
    pub counters: Vec<(String, u64)>,
    /// (hour since the epoch, opens) from the requested hour on, hours without opens left out.
    pub hourly: Vec<(u64, u64)>,
    /// (local day since the epoch, opens) over the gallery's life, days without opens left out.
    pub daily: Vec<(u64, u64)>,
    /// Sequence number of the newest log record (0 if none): changes with every record.
    pub version: u64,
}

/// One page of a gallery's log, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogPage {
    /// (sequence number, record).
    pub records: Vec<(u64, AccessRecord)>,
    /// Pass as `before` for the next (older) page; `None` when this is the oldest.
    pub next: Option<u64>,
}

/// Remove every tracking row of a gallery (it is being deleted, in `txn`).
pub(super) fn forget(txn: &WriteTransaction, id: &str) -> Result<()> {
    txn.open_table(LOG)?
        .retain_in((id, 0)..=(id, u64::MAX), |_, _| false)?;
    txn.open_table(COUNTERS)?
        .retain_in((id, "")..=(id, LAST_NAME), |_, _| false)?;
    txn.open_table(SEEN)?
        .retain_in((id, 0, [0; 16])..=(id, u64::MAX, [0xff; 16]), |_, _| false)?;
    Ok(())
}

impl Store {
    /// The roll-ups of `id`, with the hourly series from `from_hour` on.
    pub fn stats(&self, id: &GalleryId, from_hour: u64) -> Result<RawStats> {
        let id = id.as_str();
        let txn = self.db.begin_read()?;
        let mut stats = RawStats::default();
        let counters = txn.open_table(COUNTERS)?;
        // Named counters sort before the series (`~…`).
        for entry in counters.range((id, "")..(id, SERIES))? {
            let (key, count) = entry?;
            stats
                .counters
                .push((key.value().1.to_owned(), count.value()));
        }
        let (first_hour, last_hour) = (hour_counter(from_hour), hour_counter(9_999_999_999));
        for entry in counters.range((id, first_hour.as_str())..=(id, last_hour.as_str()))? {
            let (key, count) = entry?;
            if let Ok(hour) = key.value().1[2..].parse() {
                stats.hourly.push((hour, count.value()));
            }
        }
        let (first_day, last_day) = (day_counter(0), day_counter(99_999_999));
        for entry in counters.range((id, first_day.as_str())..=(id, last_day.as_str()))? {
            let (key, count) = entry?;
            if let Ok(day) = key.value().1[2..].parse() {
                stats.daily.push((day, count.value()));
            }
        }
        stats.version = txn
            .open_table(LOG)?
            .range((id, 0)..=(id, u64::MAX))?
            .next_back()
            .transpose()?
            .map_or(0, |(key, _)| key.value().1);
        Ok(stats)
    }

    /// Up to `limit` records of `id` older than `before` (all when `None`), newest first.
    pub fn log_page(&self, id: &GalleryId, before: Option<u64>, limit: usize) -> Result<LogPage> {
        let mut page = LogPage::default();
        let mut more = false;
        self.log_each(id, before, |seq, record| {
            if page.records.len() == limit {
                more = true;
                return false;
            }
            page.records.push((seq, record));
            true
        })?;
        if more {
            page.next = page.records.last().map(|(seq, _)| *seq);
        }
        Ok(page)
    }

    /// Visit the records of `id` older than `before`, newest first, while `visit` says so.
    pub fn log_each(
        &self,
        id: &GalleryId,
        before: Option<u64>,
        mut visit: impl FnMut(u64, AccessRecord) -> bool,
    ) -> Result<()> {
        let id = id.as_str();
        let txn = self.db.begin_read()?;
        let log = txn.open_table(LOG)?;
        let end = before.unwrap_or(u64::MAX);
        for entry in log.range((id, 0)..(id, end))?.rev() {
            let (key, value) = entry?;
            if !visit(key.value().1, decode(value.value())?) {
                break;
            }
        }
        Ok(())
    }

    /// Remove log records older than `cutoff_ms` and de-duplication keys of days before
    /// `cutoff_day`, at most `max` records per call (call again while it returns `max`), so
    /// one call never holds the writer for long. Counters and series stay.
    pub fn prune_log(&self, cutoff_ms: i64, cutoff_day: u64, max: usize) -> Result<usize> {
        let txn = self.db.begin_write()?;
        let mut removed = 0;
        {
            let ids: Vec<String> = {
                let galleries = txn.open_table(GALLERIES)?;
                let mut ids = Vec::new();
                for entry in galleries.iter()? {
                    ids.push(entry?.0.value().to_owned());
                }
                ids
            };
            let mut log = txn.open_table(LOG)?;
            let mut seen = txn.open_table(SEEN)?;
            for id in &ids {
                let id = id.as_str();
                let mut keep_from = None;
                let mut old = 0;
                for entry in log.range((id, 0)..=(id, u64::MAX))? {
                    let (key, value) = entry?;
                    let record: AccessRecord = decode(value.value())?;
                    if record.at_ms >= cutoff_ms || removed + old == max {
                        keep_from = Some(key.value().1);
                        break;
                    }
                    old += 1;
                }
                if old > 0 {
                    let end = keep_from.unwrap_or(u64::MAX);
                    if keep_from.is_some() {
                        log.retain_in((id, 0)..(id, end), |_, _| false)?;
                    } else {
                        log.retain_in((id, 0)..=(id, end), |_, _| false)?;
                    }
                    removed += old;
                }
                seen.retain_in((id, 0, [0; 16])..(id, cutoff_day, [0; 16]), |_, _| false)?;
                if removed == max {
                    break;
                }
            }
        }
        txn.commit()?;
        Ok(removed)
    }
}
