//! The database and the blob tree belong together: the database holds an instance id and
//! `blobs/INSTANCE` names it. Only a database that owns the tree may decide which files are
//! orphans, so a lost, empty or foreign database never deletes photos: start-up refuses and
//! says what to do, and `serve --new-database` adopts the tree while keeping every file it
//! does not know (never collected; `maiimg check` lists them).
//!
//! The same rule as PostgreSQL's system identifier in `pg_control` against the WAL files:
//! a mismatch is a refusal, never a guess.

use crate::store::Identity;

/// What start-up does about the tie between the database and the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// They belong together.
    Bound,
    /// Give both this id (a new instance, or a database from before instance ids). When
    /// `keep_unknown` is set, the files the database does not reference are kept for good.
    Bind {
        /// The id to write into both.
        id: String,
        /// Keep the files this database does not reference (an adopted tree).
        keep_unknown: bool,
        /// The database already holds `id`: only the marker is written.
        marker_only: bool,
    },
}

/// Why the server refuses to start on this data directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// A database no server ever started on, beside a tree that holds photos.
    #[error(
        "the database (maiimg.redb) is new or empty, but blobs/ holds {files} image files. \
         If the database was lost, stop and restore maiimg.redb from a backup. To start a new \
         database that keeps these files (they are never deleted automatically; `maiimg \
         check` lists them), run `maiimg serve --new-database`"
    )]
    NewDatabase {
        /// Files in the tree.
        files: u64,
    },
    /// The tree's marker names another database.
    #[error(
        "blobs/ belongs to another database (its marker says instance {marker}, maiimg.redb \
         is instance {database}). Restore the matching maiimg.redb or blobs/ from a backup, \
         or run `maiimg serve --new-database` to adopt these files (files this database does \
         not know are kept, never deleted automatically)"
    )]
    Foreign {
        /// The id in the marker.
        marker: String,
        /// The database's id.
        database: String,
    },
    /// The tree has no marker, but the database has files to lose or the tree has photos.
    #[error(
        "blobs/INSTANCE is missing: blobs/ holds {files} files and maiimg.redb references \
         {referenced}. If blobs/ was lost or replaced, restore it from a backup; if these \
         files do belong to this database, run `maiimg serve --new-database` (files it does \
         not know are kept, never deleted automatically)"
    )]
    NoMarker {
        /// Files in the tree.
        files: u64,
        /// Files the database references.
        referenced: u64,
    },
}

/// Decide from the database's identity, the tree's marker and file count, and whether the
/// administrator said `--new-database`. `fresh_id` is used when a new id is needed.
pub fn judge(
    db: &Identity,
    marker: Option<&str>,
    files: u64,
    new_database: bool,
    fresh_id: impl FnOnce() -> String,
) -> Result<Binding, Mismatch> {
    let adopt = |id: String, marker_only| Binding::Bind {
        id,
        keep_unknown: files > 0,
        marker_only,
    };
    match (&db.instance_id, marker) {
        (Some(id), Some(m)) if id == m => Ok(Binding::Bound),
        (Some(id), Some(m)) if !new_database => Err(Mismatch::Foreign {
            marker: m.to_owned(),
            database: id.clone(),
        }),
        // Nothing to lose on either side: a marker lost before the first photo.
        (Some(id), None) if files == 0 && db.referenced == 0 => Ok(Binding::Bind {
            id: id.clone(),
            keep_unknown: false,
            marker_only: true,
        }),
        (Some(_), None) if !new_database => Err(Mismatch::NoMarker {
            files,
            referenced: db.referenced,
        }),
        (Some(id), _) => Ok(adopt(id.clone(), true)),
        // A new instance, or one that crashed between writing the marker and committing
        // its id: an empty tree has nothing to protect.
        (None, m) if db.fresh && files == 0 => Ok(Binding::Bind {
            id: m.map_or_else(fresh_id, str::to_owned),
            keep_unknown: false,
            marker_only: false,
        }),
        (None, _) if db.fresh && !new_database => Err(Mismatch::NewDatabase { files }),
        (None, _) if db.fresh => Ok(adopt(fresh_id(), false)),
        // A database from before instance ids, started before: it has always owned the
        // tree it finds (files it does not reference are the orphans of old).
        (None, None) => Ok(Binding::Bind {
            id: fresh_id(),
            keep_unknown: false,
            marker_only: false,
        }),
        (None, Some(m)) if !new_database => Err(Mismatch::Foreign {
            marker: m.to_owned(),
            database: "without an id (from an older version)".to_owned(),
        }),
        (None, Some(_)) => Ok(adopt(fresh_id(), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(id: Option<&str>, fresh: bool, referenced: u64) -> Identity {
        Identity {
            instance_id: id.map(str::to_owned),
            fresh,
            referenced,
        }
    }

    fn bind(id: &str, keep_unknown: bool, marker_only: bool) -> Binding {
        Binding::Bind {
            id: id.to_owned(),
            keep_unknown,
            marker_only,
        }
    }

    fn new_id() -> String {
        "new".to_owned()
    }

    #[test]
    fn a_matching_pair_starts_and_a_new_instance_binds() {
        let bound = db(Some("a"), false, 3);
        assert_eq!(
            judge(&bound, Some("a"), 9, false, new_id),
            Ok(Binding::Bound)
        );
        assert_eq!(
            judge(&bound, Some("a"), 9, true, new_id),
            Ok(Binding::Bound)
        );
        let fresh = db(None, true, 0);
        assert_eq!(
            judge(&fresh, None, 0, false, new_id),
            Ok(bind("new", false, false))
        );
        // Crashed between the marker and the database's commit: the marker's id is kept.
        assert_eq!(
            judge(&fresh, Some("m"), 0, false, new_id),
            Ok(bind("m", false, false))
        );
    }

    #[test]
    fn a_new_database_beside_photos_is_refused_unless_told() {
        let fresh = db(None, true, 0);
        for marker in [None, Some("a")] {
            assert_eq!(
                judge(&fresh, marker, 6, false, new_id),
                Err(Mismatch::NewDatabase { files: 6 })
            );
            assert_eq!(
                judge(&fresh, marker, 6, true, new_id),
                Ok(bind("new", true, false))
            );
        }
        let message = Mismatch::NewDatabase { files: 6 }.to_string();
        assert!(message.contains("--new-database") && message.contains("backup"));
    }

    #[test]
    fn a_foreign_or_missing_marker_is_refused_unless_told() {
        let bound = db(Some("a"), false, 3);
        assert!(matches!(
            judge(&bound, Some("b"), 9, false, new_id),
            Err(Mismatch::Foreign { .. })
        ));
        assert_eq!(
            judge(&bound, Some("b"), 9, true, new_id),
            Ok(bind("a", true, true))
        );
        assert_eq!(
            judge(&bound, None, 9, false, new_id),
            Err(Mismatch::NoMarker {
                files: 9,
                referenced: 3
            })
        );
        // The tree is empty but the database references files: they are lost, say so.
        assert!(judge(&bound, None, 0, false, new_id).is_err());
        // Nothing on either side to lose.
        let empty = db(Some("a"), false, 0);
        assert_eq!(
            judge(&empty, None, 0, false, new_id),
            Ok(bind("a", false, true))
        );
    }

    #[test]
    fn a_database_from_before_instance_ids_adopts_its_tree() {
        let old = db(None, false, 3);
        assert_eq!(
            judge(&old, None, 9, false, new_id),
            Ok(bind("new", false, false))
        );
        assert!(judge(&old, Some("x"), 9, false, new_id).is_err());
        assert_eq!(
            judge(&old, Some("x"), 9, true, new_id),
            Ok(bind("new", true, false))
        );
    }
}
