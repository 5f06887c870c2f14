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
