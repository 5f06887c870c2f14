//! Rows of the activity table (`tables::ACTIVITY`): how each is keyed and encoded.
//!
//! Numbers in rows are big-endian so that rows sort by them; counts are little-endian
//! values. Log records are postcard, a compact binary form of `AccessRecord`: a busy
//! gallery keeps millions of them.

use redb::ReadableTable;
use serde::Deserialize;

use super::{Result, StoreError};
use crate::clock::Millis;
use crate::model::{AccessRecord, EventKind};

/// The open count.
pub(super) const OPENS: [u8; 1] = [0];
/// Named counters: the tag, then the name.
pub(super) const COUNTER: u8 = 1;
/// Opens per local day: the tag, then the day.
pub(super) const DAY: u8 = 2;
/// Opens per hour: the tag, then the hour.
pub(super) const HOUR: u8 = 3;
/// The access log: the tag, then the sequence number inverted (newest first).
pub(super) const LOG: u8 = 4;
/// De-duplication keys: the tag, the UTC day, the key.
pub(super) const SEEN: u8 = 5;
/// The counter of events counted but not logged on their own (a repeat from the same
/// network within the hour, or an open folded into an aggregate record): it moves the
/// statistics' version when no record is added.
pub(super) const UNLOGGED: &[u8] = b"\x01unlogged";
/// After every row of a gallery.
pub(super) const END: u8 = 0xff;

/// A table the activity rows can be read from (inside a read or a write transaction).
pub(super) trait Rows: ReadableTable<(&'static str, &'static [u8]), &'static [u8]> {}
impl<T: ReadableTable<(&'static str, &'static [u8]), &'static [u8]>> Rows for T {}

/// A row made of a tag and a number.
pub(super) fn numbered(tag: u8, n: u64) -> [u8; 9] {
    let mut row = [tag; 9];
    row[1..].copy_from_slice(&n.to_be_bytes());
    row
}

/// The number of a row made by [`numbered`].
pub(super) fn number_of(row: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(row.get(1..9)?.try_into().ok()?))
}

/// The row of log record `seq`.
pub(super) fn log_row(seq: u64) -> [u8; 9] {
    numbered(LOG, !seq)
}

/// The sequence number of a log row.
pub(super) fn seq_of(row: &[u8]) -> Option<u64> {
    number_of(row).map(|n| !n)
}

/// The row that says `key` was seen on UTC `day`.
pub(super) fn seen_row(day: u64, key: &[u8; 16]) -> [u8; 25] {
    let mut row = [0; 25];
    row[..9].copy_from_slice(&numbered(SEEN, day));
    row[9..].copy_from_slice(key);
    row
}

/// The row of the counter `name`.
pub(super) fn counter_row(name: &str) -> Vec<u8> {
    let mut row = Vec::with_capacity(1 + name.len());
    row.push(COUNTER);
    row.extend_from_slice(name.as_bytes());
    row
}

/// A count as stored.
pub(super) fn count_value(n: u64) -> [u8; 8] {
    n.to_le_bytes()
}

/// A stored count.
pub(super) fn count_of(value: &[u8]) -> Result<u64> {
    value
        .try_into()
        .map(u64::from_le_bytes)
        .map_err(|_| StoreError::Unreadable("a count is not 8 bytes".into()))
}

/// The stored count of row `row` of gallery `id` (0 if there is none).
pub(super) fn get_count(table: &impl Rows, id: &str, row: &[u8]) -> Result<u64> {
    match table.get((id, row))? {
        Some(v) => count_of(v.value()),
        None => Ok(0),
    }
}

/// Opens admitted so far in gallery `id`.
pub(super) fn opens_of(table: &impl Rows, id: &str) -> Result<u64> {
    get_count(table, id, &OPENS)
}

/// The newest log sequence number of gallery `id` (0 if it has no records).
pub(super) fn last_seq(table: &impl Rows, id: &str) -> Result<u64> {
    let first = table
        .range((id, &[LOG][..])..(id, &[LOG + 1][..]))?
        .next()
        .transpose()?;
    Ok(first
        .and_then(|(row, _)| seq_of(row.value().1))
        .unwrap_or(0))
}

/// A network's opens this hour and the sequence number of its aggregate record (0: none
/// yet), as stored in its seen row.
pub(super) fn budget_value(opens: u64, seq: u64) -> [u8; 16] {
    let mut value = [0; 16];
    value[..8].copy_from_slice(&opens.to_le_bytes());
    value[8..].copy_from_slice(&seq.to_le_bytes());
    value
}

/// What [`budget_value`] stored (a seen row without a value counts as nothing).
pub(super) fn budget_of(value: &[u8]) -> (u64, u64) {
    let number = |part: Option<&[u8]>| {
        part.and_then(|p| p.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    (number(value.get(..8)), number(value.get(8..16)))
}

/// The aggregate record "`more` more opens from this network", from the first folded
/// open's record or the aggregate it replaces: its time and network stay, the visitor's
/// details (one of many) go.
pub(super) fn aggregate_record(bytes: &[u8], more: u64) -> Result<Vec<u8>> {
    let record = decode_record(bytes)?;
    encode_record(&AccessRecord {
        kind: EventKind::MoreOpens,
        detail: Some(more.to_string()),
        image: None,
        device: String::new(),
        os: String::new(),
        browser: String::new(),
        referrer: String::new(),
        visitor: String::new(),
        ..record
    })
}

/// A log record as stored.
pub fn encode_record(record: &AccessRecord) -> Result<Vec<u8>> {
    Ok(postcard::to_allocvec(record)?)
}

/// A stored log record.
pub(super) fn decode_record(bytes: &[u8]) -> Result<AccessRecord> {
    Ok(postcard::from_bytes(bytes)?)
}

/// When a stored log record happened, without decoding the rest of it (`at_ms` is the
/// record's first field).
pub(super) fn record_time(bytes: &[u8]) -> Result<Millis> {
    #[derive(Deserialize)]
    struct Head {
        at_ms: Millis,
    }
    Ok(postcard::take_from_bytes::<Head>(bytes)?.0.at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AccessRecord {
        AccessRecord {
            at_ms: Millis(1_764_000_000_123),
            kind: EventKind::View,
            image: Some(3),
            detail: None,
            device: "phone".into(),
            os: "iOS 17".into(),
            browser: "Mobile Safari 17".into(),
            referrer: "WhatsApp".into(),
            visitor: "0123456789abcdef".into(),
            ip: Some("203.0.113.0/24".into()),
        }
    }

    #[test]
    fn records_round_trip_compactly() {
        let record = record();
        let bytes = encode_record(&record).expect("encodes");
        assert_eq!(decode_record(&bytes).expect("decodes"), record);
        assert_eq!(record_time(&bytes).expect("has a time"), record.at_ms);
        // The JSON of log_v1 took 143 bytes for this record.
        assert!(bytes.len() < 90, "{} bytes", bytes.len());
        let bare = AccessRecord {
            image: None,
            ip: None,
            detail: Some("expired".into()),
            ..record
        };
        let bytes = encode_record(&bare).expect("encodes");
        assert_eq!(decode_record(&bytes).expect("decodes"), bare);
    }

    #[test]
    fn log_rows_sort_newest_first_and_keep_their_number() {
        assert!(log_row(2) < log_row(1));
        assert!(numbered(HOUR, u64::MAX) < log_row(u64::MAX));
        assert!(log_row(0)[..] < seen_row(0, &[0; 16])[..]);
        assert_eq!(seq_of(&log_row(42)), Some(42));
        assert_eq!(number_of(&numbered(DAY, 20_000)), Some(20_000));
        assert!(counter_row("zzz").as_slice() < &numbered(DAY, 0)[..]);
        assert!(OPENS.as_slice() < counter_row("").as_slice());
    }

    #[test]
    fn an_aggregate_keeps_time_and_network_and_says_how_many() {
        let first = encode_record(&record()).expect("encodes");
        let one = aggregate_record(&first, 1).expect("aggregates");
        let five = decode_record(&aggregate_record(&one, 5).expect("raises")).expect("decodes");
        assert_eq!(
            (five.kind, five.detail.as_deref()),
            (EventKind::MoreOpens, Some("5"))
        );
        assert_eq!((five.at_ms, five.ip), (record().at_ms, record().ip));
        assert!(five.visitor.is_empty() && five.browser.is_empty());
        assert_eq!(budget_of(&budget_value(301, 7)), (301, 7));
        assert_eq!(budget_of(&[]), (0, 0));
    }

    #[test]
    fn counts_are_eight_bytes() {
        assert_eq!(count_of(&count_value(7)).expect("a count"), 7);
        assert!(count_of(&[1, 2]).is_err());
    }
}
