//! The periodic chores, in one entry point ([`Galleries::housekeeping`], run by the
//! housekeeping task every few minutes), and the chores of a start.

use time::{Duration, OffsetDateTime};

use crate::clock::Millis;
use crate::domain::collector::MassDeletion;
use crate::domain::galleries::create::UPLOAD_TTL;
use crate::domain::galleries::service::{Galleries, Result};

/// How often housekeeping looks for orphan files besides start-up (a directory walk).
const ORPHAN_SWEEP_EVERY: Duration = Duration::hours(1);
/// Where the last periodic orphan sweep is remembered.
const ORPHAN_SWEEP_KEY: &str = "orphan_sweep_ms";

/// What the housekeeping keeps and for how long (from the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HousekeepingPolicy {
    /// Access-log records older than this many days are pruned (counters and series stay).
    pub log_retention_days: u32,
    /// Galleries over for good for longer than this many days are purged; `0`: never.
    pub purge_after_days: u32,
}

impl Galleries {
    /// Every periodic chore, in order: today's visitor salt, abandoned uploads, access-log
    /// records past retention, the purge (when `purge_after_days` is set) and, at most
    /// hourly, a collection of orphan files (left by a crash between a commit and its file
    /// removal, or between a blob write and its commit). Stops at the first failure; the
    /// next run starts again from the top.
    pub fn housekeeping(&self, now: OffsetDateTime, policy: &HousekeepingPolicy) -> Result<()> {
        self.rotate_and_expire(now)?;
        self.prune_log(now, policy.log_retention_days)?;
        let purged = self.purge(now, policy.purge_after_days)?;
        if purged.galleries > 0 {
            rocket::info!(
                "purged {} galleries ({} files, {} bytes)",
                purged.galleries,
                purged.freed.files,
                purged.freed.bytes
            );
        }
        let last = self
            .store
            .meta_instant(ORPHAN_SWEEP_KEY)?
            .and_then(Millis::time);
        if last.is_none_or(|t| now - t >= ORPHAN_SWEEP_EVERY || t > now) {
            let sweep = self.collect_garbage(now, MassDeletion::Hold)?;
            if sweep.freed.files > 0 {
                rocket::info!(
                    "collected {} orphan files ({} bytes)",
                    sweep.freed.files,
                    sweep.freed.bytes
                );
            }
            self.store
                .set_meta_instant(ORPHAN_SWEEP_KEY, Millis::of(now))?;
        }
        Ok(())
    }

    /// What every start does before serving: today's salt, abandoned uploads, and a
    /// collection (automatic, so a mass deletion is held). No pruning or purge: those wait
    /// for the housekeeping task, which knows the policy.
    pub(super) fn start_up_chores(&self, now: OffsetDateTime) -> Result<()> {
        self.rotate_and_expire(now)?;
        self.collect_garbage(now, MassDeletion::Hold)?;
        Ok(())
    }

    fn rotate_and_expire(&self, now: OffsetDateTime) -> Result<()> {
        self.tracker.rotate(&self.store, now)?;
        self.expire_uploads(now)
    }

    /// Drop staged uploads older than [`UPLOAD_TTL`] and the files only they used.
    fn expire_uploads(&self, now: OffsetDateTime) -> Result<()> {
        let freed = self.store.expire_uploads(now - UPLOAD_TTL)?;
        self.collect(freed);
        Ok(())
    }
}
