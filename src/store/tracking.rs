//! Reading the access log and its roll-ups, and pruning old records.
//!
//! Everything here is a key range of one gallery, never a scan of a table: the statistics
//! of a gallery opened a million times read a few hundred counter rows and the series, and
//! a page of its log is one bounded range read.

use std::ops::Bound;

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::activity::{
    self, COUNTER, DAY, END, HOUR, LOG, SEEN, count_of, decode_record, number_of, record_time,
    seq_of,
};
use super::tables::{ACTIVITY, GALLERIES};
use super::{Result, Store};
use crate::clock::Millis;
use crate::ids::GalleryId;
use crate::model::AccessRecord;

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

/// Remove every activity row of a gallery (it is being deleted, in `txn`).
pub(super) fn forget(txn: &WriteTransaction, id: &str) -> Result<()> {
    txn.open_table(ACTIVITY)?
        .retain_in((id, &[][..])..(id, &[END][..]), |_, _| false)?;
    Ok(())
}

impl Store {
    /// The roll-ups of `id`, with the hourly series from `from_hour` on.
    pub fn stats(&self, id: &GalleryId, from_hour: u64) -> Result<RawStats> {
        self.observed(|| -> Result<RawStats> {
            let id = id.as_str();
            let txn = self.db()?.begin_read()?;
            let rows = txn.open_table(ACTIVITY)?;
            let mut stats = RawStats::default();
            for entry in rows.range((id, &[COUNTER][..])..(id, &[DAY][..]))? {
                let (row, count) = entry?;
                let name = String::from_utf8_lossy(&row.value().1[1..]).into_owned();
                stats.counters.push((name, count_of(count.value())?));
            }
            let series = |from: &[u8], to: u8| -> Result<Vec<(u64, u64)>> {
                let mut out = Vec::new();
                for entry in rows.range((id, from)..(id, &[to][..]))? {
                    let (row, count) = entry?;
                    if let Some(n) = number_of(row.value().1) {
                        out.push((n, count_of(count.value())?));
                    }
                }
                Ok(out)
            };
            stats.daily = series(&[DAY], HOUR)?;
            stats.hourly = series(&activity::numbered(HOUR, from_hour), LOG)?;
            // Events counted but not logged move the version too.
            stats.version = activity::last_seq(&rows, id)?
                + activity::get_count(&rows, id, activity::UNLOGGED)?;
            Ok(stats)
        })
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
        self.observed(|| -> Result<()> {
            let id = id.as_str();
            let txn = self.db()?.begin_read()?;
            let rows = txn.open_table(ACTIVITY)?;
            // Newer records sort first: the older ones start right after `before`'s row.
            let after = before.map(activity::log_row);
            let from = match &after {
                Some(row) => Bound::Excluded((id, &row[..])),
                None => Bound::Included((id, &[LOG][..])),
            };
            let range =
                rows.range::<(&str, &[u8])>((from, Bound::Excluded((id, &[LOG + 1][..]))))?;
            for entry in range {
                let (row, value) = entry?;
                let Some(seq) = seq_of(row.value().1) else {
                    continue;
                };
                if !visit(seq, decode_record(value.value())?) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Remove log records older than `cutoff` and de-duplication keys of days before
    /// `cutoff_day`, at most `max` records per call (call again while it returns `max`), so
    /// one call never holds the writer for long. Counters and series stay.
    pub fn prune_log(&self, cutoff: Millis, cutoff_day: u64, max: usize) -> Result<usize> {
        self.observed(|| -> Result<usize> {
            let txn = self.db()?.begin_write()?;
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
                let mut rows = txn.open_table(ACTIVITY)?;
                let log_end = [LOG + 1];
                for id in &ids {
                    let id = id.as_str();
                    // The oldest records are the last rows of the log: walk back from there to
                    // the first one to keep. `first_old` ends as the newest record to remove,
                    // the first row (in key order) of the range that goes.
                    let mut first_old = None;
                    for entry in rows.range((id, &[LOG][..])..(id, &log_end[..]))?.rev() {
                        let (row, value) = entry?;
                        if record_time(value.value())? >= cutoff || removed == max {
                            break;
                        }
                        first_old = Some(row.value().1.to_vec());
                        removed += 1;
                    }
                    if let Some(first_old) = first_old {
                        rows.retain_in((id, first_old.as_slice())..(id, &log_end[..]), |_, _| {
                            false
                        })?;
                    }
                    let seen_end = activity::numbered(SEEN, cutoff_day);
                    rows.retain_in((id, &[SEEN][..])..(id, &seen_end[..]), |_, _| false)?;
                    if removed == max {
                        break;
                    }
                }
            }
            txn.commit()?;
            Ok(removed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventKind, GalleryRecord};
    use crate::store::{Admission, Tally, encode_record};

    const DAY_MS: i64 = 86_400_000;

    /// An open on UTC `day` by `visitor`, as the domain would tally it.
    fn open(day: u64, visitor: u8) -> Tally {
        let at_ms = Millis(i64::try_from(day).unwrap_or(0) * DAY_MS);
        let mut tally = Tally::new(day);
        tally.record = encode_record(&AccessRecord {
            at_ms,
            kind: EventKind::Open,
            image: None,
            detail: None,
            device: "phone".into(),
            os: "iOS 17".into(),
            browser: "Mobile Safari 17".into(),
            referrer: "direct".into(),
            visitor: format!("{visitor:02x}"),
            ip: None,
        })
        .ok();
        tally.first = Some([visitor; 16]);
        tally.count_first(format_args!("visitors"));
        tally.count(format_args!("device:phone"));
        tally
    }

    #[test]
    fn pruning_takes_the_oldest_records_and_seen_keys_and_keeps_the_counters() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(dir.path(), true).expect("a new store");
        let id = GalleryId::generate();
        store
            .insert_gallery(&id, GalleryRecord::blank(""), &[])
            .expect("inserted");
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let record_opens = |opens: &[(u64, u8)]| {
            for &(day, visitor) in opens {
                let answer = runtime
                    .block_on(store.recorder().open(&id, Some(open(day, visitor)), None))
                    .expect("recorded");
                assert!(matches!(answer, Admission::Admitted { .. }));
            }
        };
        let counter = |name: &str| {
            let stats = store.stats(&id, 0).expect("stats");
            stats
                .counters
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, count)| *count)
        };
        // Visitor 1 on days 100 and 101 (and twice on 101), visitor 2 on day 200.
        record_opens(&[(100, 1), (101, 1), (101, 1), (200, 2)]);
        assert_eq!(counter("visitors"), 3);
        let days = || -> Vec<i64> {
            let page = store.log_page(&id, None, 10).expect("a page");
            page.records
                .iter()
                .map(|(_, r)| r.at_ms.0 / DAY_MS)
                .collect()
        };
        assert_eq!(days(), [200, 101, 101, 100]);

        // At most one record per call: the oldest goes first.
        assert_eq!(
            store
                .prune_log(Millis(150 * DAY_MS), 150, 1)
                .expect("pruned"),
            1
        );
        assert_eq!(days(), [200, 101, 101]);
        assert_eq!(
            store
                .prune_log(Millis(150 * DAY_MS), 150, 10)
                .expect("pruned"),
            2
        );
        assert_eq!(days(), [200]);
        assert_eq!(
            store
                .prune_log(Millis(150 * DAY_MS), 150, 10)
                .expect("pruned"),
            0
        );
        assert_eq!(store.stats(&id, 0).expect("stats").version, 4);

        // The counters stay; day 101's seen key went, day 200's did not.
        assert_eq!(counter("visitors"), 3);
        assert_eq!(counter("device:phone"), 4);
        record_opens(&[(101, 1), (200, 2)]);
        assert_eq!(counter("visitors"), 4);
        assert_eq!(counter("device:phone"), 6);
        assert_eq!(days(), [200, 101, 200]);
    }
}
