//! The whole redb schema on one screen. Names carry a version: a change of a key or value
//! encoding gets a new name (and a migration), never a silent reinterpretation.

use redb::TableDefinition;

/// Gallery id → `GalleryRecord` as JSON.
pub const GALLERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("galleries_v1");

/// Upload id → `StagedUpload` as JSON: images uploaded by a browser, not yet in a gallery.
pub const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads_v1");

/// Blob SHA-256 → number of references from galleries and staged uploads. A row exists only
/// while the count is above zero; a blob without a row may be collected.
pub const BLOB_REFS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("blob_refs_v1");

/// Gallery id → opens admitted so far. Written only by the recorder.
pub const OPENS: TableDefinition<&str, u64> = TableDefinition::new("opens_v1");

/// Instance-wide values, e.g. the key that signs viewer tickets.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_v1");

/// (gallery id, sequence number) → `AccessRecord` as JSON: the access log. Sequence numbers
/// grow with time within a gallery, so its log is one key range, newest last, and a page of
/// it is a range read.
pub const LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log_v1");

/// (gallery id, counter name) → count: the roll-ups the statistics read (`visitors`,
/// `device:phone`, `view:<image>`, …), updated in the transaction that writes the record.
/// They outlive the log records they count. The time series live here too, after every
/// named counter: `~h<hour since the epoch, 10 digits>` and `~d<local day, 8 digits>` hold
/// the opens of that hour and day (one table fewer for each commit to write).
pub const COUNTERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters_v1");

/// (gallery id, UTC day, key) → present: what was already seen that day (a visitor, a
/// visitor's view of an image), for unique counts and de-duplication. Pruned with the log.
pub const SEEN: TableDefinition<(&str, u64, [u8; 16]), ()> = TableDefinition::new("seen_v1");

/// (SHA-256 of an owner key, gallery id) → present: the galleries filed under an owner key,
/// one key range per owner. Written in the transaction that sets or drops a record's
/// `owner`, so it never disagrees with the records.
pub const OWNER_GALLERIES: TableDefinition<([u8; 32], &str), ()> =
    TableDefinition::new("owner_galleries_v1");

/// Gallery id → (milliseconds since the epoch, opens then): when housekeeping first found
/// the gallery's view limit used up, and its count at that moment (a later count means it
/// was reopened and exhausted again). Purging uses it; rows of galleries no longer
/// exhausted, or gone, are dropped by the same sweep.
pub const EXHAUSTED: TableDefinition<&str, (i64, u64)> = TableDefinition::new("exhausted_v1");

/// Name of the counter of opens in `hour` (hours since the Unix epoch).
pub fn hour_counter(hour: u64) -> String {
    format!("~h{hour:010}")
}

/// Name of the counter of opens on local `day` (days since the Unix epoch).
pub fn day_counter(day: u64) -> String {
    format!("~d{day:08}")
}
