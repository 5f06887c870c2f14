//! The database handle that outlives a failed write.
//!
//! redb 4.6 poisons a `Database` after any I/O error (a full disk, a file-size limit, a
//! failing device): every later transaction, reads included, answers "previous I/O error",
//! and only a new `Database` on the same file clears it, which redb allows once every
//! handle to the old one is gone. So every transaction takes its `Database` from here, and
//! the first I/O error closes the handle: from then on writes fail at once with
//! [`StoreError::Full`] (or [`StoreError::Unavailable`] for other faults) while viewers
//! are served from the caches above. A recovery thread re-opens the file every second
//! (redb repairs it from the last durable commit, so nothing acknowledged is lost) and
//! proves it with a small durable write before handing it out again.
//!
//! This is what PostgreSQL does on a failed WAL write, without the restart: stop taking
//! writes, recover from the last durable state, resume.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::Duration;

use redb::Database;
use time::OffsetDateTime;

use super::tables::META;
use super::{Failure, StoreError};

/// How often a closed handle tries to re-open the file.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// Free bytes the disk must take before writes resume after "full".
const HEADROOM: usize = 1 << 20;

/// What the store does with a re-opened file before anyone else may use it.
pub(super) type OnRecovery = Box<dyn Fn(&Database) -> Result<(), StoreError> + Send + Sync>;

/// Why writes fail, as far as the store can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No space left (ENOSPC, EDQUOT, or a file-size limit: EFBIG).
    Full,
    /// Another I/O error.
    Failing,
}

/// Whether the database takes writes, for `/healthz`, `/readyz` and the admin page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// `Some` while writes fail: why, and since when.
    pub writes_failing: Option<(Fault, OffsetDateTime)>,
    /// How many times the file was re-opened after a fault since the start.
    pub recoveries: u64,
}

struct State {
    health: Health,
    stopping: bool,
}

/// The current `Database`, or none while it is being recovered.
pub(super) struct Handle {
    path: PathBuf,
    current: RwLock<Option<Arc<Database>>>,
    state: Mutex<State>,
    wake: Condvar,
    /// Called with every re-opened file before it is handed out (the caches take what the
    /// file holds); an error means the file cannot be read, and the next retry tries again.
    on_recovery: OnRecovery,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("path", &self.path)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

/// Whether an I/O error means "no space".
pub fn is_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded
    )
}

/// The fault behind a store error, if it is one that poisons the database.
fn fault_of(e: &StoreError) -> Option<Fault> {
    match e {
        StoreError::Db(redb::Error::Io(io)) if is_full(io) => Some(Fault::Full),
        StoreError::Db(redb::Error::Io(_) | redb::Error::PreviousIo) => Some(Fault::Failing),
        StoreError::Full => Some(Fault::Full),
        _ => None,
    }
}

impl Handle {
    pub(super) fn new(path: PathBuf, db: Database, on_recovery: OnRecovery) -> Handle {
        Handle {
            path,
            current: RwLock::new(Some(Arc::new(db))),
            state: Mutex::new(State {
                health: Health::default(),
                stopping: false,
            }),
            wake: Condvar::new(),
            on_recovery,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The database for one transaction, or the reason there is none now.
    pub(super) fn get(&self) -> Result<Arc<Database>, StoreError> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        match &*current {
            Some(db) => Ok(Arc::clone(db)),
            None => Err(match self.health().writes_failing {
                Some((Fault::Full, _)) => StoreError::Full,
                _ => StoreError::Unavailable,
            }),
        }
    }

    /// Pass `result` on; if it failed with an I/O error, close the handle first so the
    /// recovery thread can re-open the file.
    pub(super) fn observe<T, E: From<StoreError> + Failure>(
        &self,
        result: Result<T, E>,
    ) -> Result<T, E> {
        let Err(e) = result else {
            return result;
        };
        let Some(fault) = e.store_error().and_then(fault_of) else {
            return Err(e);
        };
        self.close(fault);
        // Say what the caller can act on: not "previous I/O error".
        Err(E::from(match fault {
            Fault::Full => StoreError::Full,
            Fault::Failing => StoreError::Unavailable,
        }))
    }

    fn close(&self, fault: Fault) {
        let first = {
            let mut state = self.state();
            let first = state.health.writes_failing.is_none();
            if first {
                state.health.writes_failing = Some((fault, OffsetDateTime::now_utc()));
            }
            first
        };
        if first {
            rocket::error!(
                "database writes failed ({}): answering writes with 507/503 and serving viewers \
                 from memory until the file can be written again",
                match fault {
                    Fault::Full => "the disk is full",
                    Fault::Failing => "an I/O error",
                }
            );
        }
        self.current
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.wake.notify_all();
    }

    /// Whether writes work now.
    pub(super) fn health(&self) -> Health {
        self.state().health
    }

    /// One attempt to re-open the file and prove it takes a durable write. First the disk
    /// must take [`HEADROOM`] new bytes: redb often finds room inside its file for the small
    /// proof, and a handle re-opened with no space would fail again at the next growth.
    fn try_reopen(&self) -> Result<(), StoreError> {
        self.probe_space().map_err(|e| StoreError::Db(e.into()))?;
        let db = Database::create(&self.path)?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let now = OffsetDateTime::now_utc().unix_timestamp().to_be_bytes();
            meta.insert("write_probe", now.as_slice())?;
        }
        txn.commit()?;
        (self.on_recovery)(&db)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(db));
        Ok(())
    }

    fn probe_space(&self) -> io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let probe = dir.join("space-probe.tmp");
        let written = (|| {
            let mut file = std::fs::File::create(&probe)?;
            file.write_all(&vec![0; HEADROOM])?;
            file.sync_all()
        })();
        let _ = std::fs::remove_file(&probe);
        written
    }

    /// The recovery loop: sleeps while healthy, retries every second while not, returns
    /// when the store is dropped.
    pub(super) fn recover_until_stopped(&self) {
        loop {
            {
                let mut state = self.state();
                while state.health.writes_failing.is_none() && !state.stopping {
                    state = self
                        .wake
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if state.stopping {
                    return;
                }
                let (state, _) = self
                    .wake
                    .wait_timeout(state, RETRY_EVERY)
                    .unwrap_or_else(PoisonError::into_inner);
                if state.stopping {
                    return;
                }
            }
            // Fails while an old transaction still holds the file, or while there is no
            // space for the probe: try again in a second.
            if self.try_reopen().is_ok() {
                let mut state = self.state();
                let since = state.health.writes_failing.take();
                state.health.recoveries += 1;
                drop(state);
                if let Some((_, since)) = since {
                    rocket::warn!(
                        "database writes work again (failing since {since}); nothing \
                         acknowledged was lost"
                    );
                }
            }
        }
    }

    /// Ask the recovery loop to return.
    pub(super) fn stop(&self) {
        self.state().stopping = true;
        self.wake.notify_all();
    }
}
