//! Upgrades of data files written by earlier versions, run at start-up in the transaction
//! that opens the tables: a file is either upgraded whole or not at all.

use redb::{ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use serde::Deserialize;

use super::Result;
use super::activity::{self, DAY, HOUR, encode_record};
use super::tables::ACTIVITY;
use crate::clock::Millis;
use crate::model::{AccessRecord, EventKind};

/// Before `activity_v1`: one table each for the counts, the log, the counters and series,
/// and the seen keys (see `tables::ACTIVITY` for why they became one).
const OPENS_V1: TableDefinition<&str, u64> = TableDefinition::new("opens_v1");
const LOG_V1: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log_v1");
const COUNTERS_V1: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters_v1");
const SEEN_V1: TableDefinition<(&str, u64, [u8; 16]), ()> = TableDefinition::new("seen_v1");

/// Whether `name` is one of the tables above.
fn is_v1(name: &str) -> bool {
    [
        OPENS_V1.name(),
        LOG_V1.name(),
        COUNTERS_V1.name(),
        SEEN_V1.name(),
    ]
    .contains(&name)
}

/// A `log_v1` record: JSON with one-letter names.
#[derive(Deserialize)]
struct RecordV1 {
    t: i64,
    k: EventKind,
    i: Option<u32>,
    x: Option<String>,
    d: String,
    o: String,
    b: String,
    r: String,
    v: String,
    a: Option<String>,
}

/// Move the rows of the v1 tables into `activity_v1` and drop the v1 tables. Nothing to do
/// on a new file or one already upgraded.
pub(super) fn activity_from_v1(txn: &WriteTransaction) -> Result<()> {
    let present = txn.list_tables()?.any(|table| is_v1(table.name()));
    if !present {
        return Ok(());
    }
    let mut rows = txn.open_table(ACTIVITY)?;
    for entry in txn.open_table(OPENS_V1)?.iter()? {
        let (id, count) = entry?;
        let value = activity::count_value(count.value());
        rows.insert((id.value(), &activity::OPENS[..]), &value[..])?;
    }
    for entry in txn.open_table(COUNTERS_V1)?.iter()? {
        let (key, count) = entry?;
        let (id, name) = key.value();
        let number = |prefix: &str| name.strip_prefix(prefix)?.parse::<u64>().ok();
        let row = match (number("~h"), number("~d")) {
            (Some(hour), _) => activity::numbered(HOUR, hour).to_vec(),
            (_, Some(day)) => activity::numbered(DAY, day).to_vec(),
            _ => activity::counter_row(name),
        };
        let value = activity::count_value(count.value());
        rows.insert((id, row.as_slice()), &value[..])?;
    }
    for entry in txn.open_table(LOG_V1)?.iter()? {
        let (key, value) = entry?;
        let (id, seq) = key.value();
        let old: RecordV1 = serde_json::from_slice(value.value())?;
        let record = encode_record(&AccessRecord {
            at_ms: Millis(old.t),
            kind: old.k,
            image: old.i,
            detail: old.x,
            device: old.d,
            os: old.o,
            browser: old.b,
            referrer: old.r,
            visitor: old.v,
            ip: old.a,
        })?;
        rows.insert((id, &activity::log_row(seq)[..]), record.as_slice())?;
    }
    for entry in txn.open_table(SEEN_V1)?.iter()? {
        let (key, _) = entry?;
        let (id, day, seen) = key.value();
        rows.insert((id, &activity::seen_row(day, &seen)[..]), &[][..])?;
    }
    drop(rows);
    txn.delete_table(OPENS_V1)?;
    txn.delete_table(COUNTERS_V1)?;
    txn.delete_table(LOG_V1)?;
    txn.delete_table(SEEN_V1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::ReadableDatabase;

    use crate::model::{ImageRecord, MediaFormat};

    /// Image records are JSON inside redb values: the JPEG copy of HEIC/AVIF originals
    /// (`download`) and the two new formats needed no migration. A record written before
    /// them reads as it always did and counts its three blobs; a new one counts four.
    #[test]
    fn image_records_from_before_heic_read_as_before()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let blob = |d: char, f: &str| {
            format!(
                r#"{{"digest":"{}","format":"{f}","width":4,"height":3,"bytes":9}}"#,
                d.to_string().repeat(64)
            )
        };
        let old = format!(
            r#"{{"name":"a.jpg","original":{},"display":{},"thumb":{}}}"#,
            blob('a', "jpeg"),
            blob('b', "jpeg"),
            blob('c', "jpeg")
        );
        let record: ImageRecord = serde_json::from_str(&old)?;
        assert_eq!(record.download, None);
        assert_eq!(record.digests().len(), 3);
        assert!(!serde_json::to_string(&record)?.contains("download"));
        let new = old.replace(
            r#""thumb""#,
            &format!(r#""download":{},"thumb""#, blob('d', "jpeg")),
        );
        let new = new.replacen(r#""format":"jpeg""#, r#""format":"heic""#, 1);
        let record: ImageRecord = serde_json::from_str(&new)?;
        assert_eq!(record.original.format, MediaFormat::Heic);
        assert_eq!(
            record.digests().len(),
            4,
            "the JPEG copy holds a reference too"
        );
        assert_eq!(record.download_blob().format, MediaFormat::Jpeg);
        Ok(())
    }

    use super::*;
    use crate::ids::GalleryId;
    use crate::store::Store;

    #[test]
    fn a_v1_file_keeps_its_counts_log_and_seen_keys()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let id = GalleryId::generate();
        let other = GalleryId::generate();
        {
            let db = redb::Database::create(dir.path().join("maiimg.redb"))?;
            let txn = db.begin_write()?;
            {
                let mut opens = txn.open_table(OPENS_V1)?;
                opens.insert(id.as_str(), 7)?;
                opens.insert(other.as_str(), 1)?;
                let mut counters = txn.open_table(COUNTERS_V1)?;
                counters.insert((id.as_str(), "visitors"), 5)?;
                counters.insert((id.as_str(), "device:phone"), 6)?;
                counters.insert((id.as_str(), "~h0000490000"), 7)?;
                counters.insert((id.as_str(), "~d00020416"), 7)?;
                let mut log = txn.open_table(LOG_V1)?;
                let json = |t: i64, extra: &str| {
                    format!(
                        r#"{{"t":{t},"k":"open","d":"phone","o":"iOS 17","b":"Mobile Safari 17","r":"direct","v":"00112233"{extra}}}"#
                    )
                };
                log.insert((id.as_str(), 1), json(1_000, "").as_bytes())?;
                log.insert(
                    (id.as_str(), 2),
                    json(2_000, r#","a":"203.0.113.0/24""#).as_bytes(),
                )?;
                let mut seen = txn.open_table(SEEN_V1)?;
                seen.insert((id.as_str(), 20_416, [9; 16]), ())?;
            }
            txn.commit()?;
        }

        let store = Store::open(dir.path(), true)?;
        assert_eq!(store.opens(&id)?, 7);
        assert_eq!(store.opens(&other)?, 1);
        let stats = store.stats(&id, 0)?;
        assert_eq!(
            stats.counters,
            [("device:phone".to_owned(), 6), ("visitors".to_owned(), 5)]
        );
        assert_eq!(stats.hourly, [(490_000, 7)]);
        assert_eq!(stats.daily, [(20_416, 7)]);
        assert_eq!(stats.version, 2);
        let page = store.log_page(&id, None, 10)?;
        let seqs: Vec<u64> = page.records.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, [2, 1]);
        assert_eq!(page.records[0].1.ip.as_deref(), Some("203.0.113.0/24"));
        assert_eq!(page.records[1].1.at_ms, Millis(1_000));
        assert_eq!(page.records[1].1.browser, "Mobile Safari 17");

        drop(store);
        let db = redb::Database::open(dir.path().join("maiimg.redb"))?;
        let txn = db.begin_read()?;
        let names: Vec<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
        assert!(!names.iter().any(|n| is_v1(n)), "{names:?}");
        let rows = txn.open_table(ACTIVITY)?;
        let seen_row = activity::seen_row(20_416, &[9; 16]);
        assert!(rows.get((id.as_str(), &seen_row[..]))?.is_some());
        Ok(())
    }
}
