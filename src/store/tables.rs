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

/// Instance-wide values, e.g. the key that signs viewer tickets.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_v1");

/// (gallery id, row) → value: everything the recorder writes about a gallery, in one tree.
/// A row is a tag byte and a suffix (`activity.rs` builds them), in this order within a
/// gallery:
///
/// | tag | row | value |
/// |---|---|---|
/// | 0 | opens admitted so far | u64 LE |
/// | 1 | + counter name (`visitors`, `device:phone`, `view:<image>`, …) | u64 LE |
/// | 2 | + local day since the epoch, u64 BE: opens that day | u64 LE |
/// | 3 | + hour since the epoch, u64 BE: opens that hour | u64 LE |
/// | 4 | + `!sequence number`, u64 BE: the access log, newest first | `AccessRecord` (postcard) |
/// | 5 | + UTC day u64 BE + 16-byte key: seen that day (unique visitors, de-duplication) | empty |
///
/// One tree, not a table each: a redb commit writes every page it dirtied and the path from
/// each to its tree's root, and each open commits its count, its record and its roll-ups
/// together. Here those rows share one path, and the hot ones sit side by side: the count
/// and the counters at the start of the gallery's range, the current hour right before the
/// newest records. Counters and series outlive the log records they count; log and seen
/// rows are pruned.
pub const ACTIVITY: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("activity_v1");

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

/// Blob SHA-256 → milliseconds since the epoch when a collection first found the file
/// referenced by nothing. A file is deleted only by a collection at least the grace period
/// later (mark, then sweep); a mark is dropped when the file is referenced again or gone.
pub const ORPHAN_MARKS: TableDefinition<&[u8; 32], i64> = TableDefinition::new("orphan_marks_v1");

/// Blob SHA-256 → milliseconds since the epoch when `serve --new-database` adopted a blob
/// tree with files this database does not know. Collections never delete these; `maiimg
/// check` lists them for the administrator to decide.
pub const KEPT_FILES: TableDefinition<&[u8; 32], i64> = TableDefinition::new("kept_files_v1");
