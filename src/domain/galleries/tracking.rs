//! The gallery service's side of the access log: counting an open together with its
//! record, noting everything else, reading statistics and the log back for the owner, and
//! pruning it. What each event counts is `domain/tracking`'s; the tables are
//! `store/tracking.rs`'s.

use time::{Duration, OffsetDateTime};

use crate::domain::access::Reason;
use crate::domain::error::DomainError;
use crate::domain::galleries::service::Galleries;
use crate::domain::tracking::stats::{self, Stats};
use crate::domain::tracking::{Event, Visitor};
use crate::ids::GalleryId;
use crate::model::{AccessRecord, GalleryRecord};
use crate::store::{Admission, LogPage};

type Result<T> = std::result::Result<T, DomainError>;

/// Records pruned per transaction, so pruning never holds the writer for long.
const PRUNE_CHUNK: usize = 10_000;

impl Galleries {
    /// Count a new viewer, exactly and durably, if the view limit allows, and log the open
    /// (or the refusal) with it.
    pub async fn admit(
        &self,
        id: &GalleryId,
        record: &GalleryRecord,
        who: Option<&Visitor>,
        now: OffsetDateTime,
    ) -> Result<Admission> {
        let tally = |event| match who {
            Some(who) => self
                .tracker
                .tally(&self.store, id, &record.settings, event, who, now),
            None => Ok(None),
        };
        let admitted = tally(Event::Open)?;
        // Only a gallery with a view limit can refuse here; don't build what can't be used.
        let refused = match record.settings.max_opens {
            Some(_) => tally(Event::Denied(Reason::Limit))?,
            None => None,
        };
        Ok(self.store.recorder().open(id, admitted, refused).await?)
    }

    /// Log something that does not count as an open; committed with the next batch,
    /// nobody waits for it.
    pub fn note(
        &self,
        id: &GalleryId,
        record: &GalleryRecord,
        event: Event,
        who: &Visitor,
        now: OffsetDateTime,
    ) -> Result<()> {
        let tally = self
            .tracker
            .tally(&self.store, id, &record.settings, event, who, now)?;
        if let Some(tally) = tally {
            self.store.recorder().note(id, tally)?;
        }
        Ok(())
    }

    /// Whether this instance keeps access logs (else callers need not describe visitors).
    pub fn tracking(&self) -> bool {
        self.tracker.enabled()
    }

    /// Wait until everything logged so far is committed.
    pub async fn flush(&self) -> Result<()> {
        Ok(self.store.recorder().flush().await?)
    }

    /// Changes after every commit of the recorder (live statistics wait on it).
    pub fn commits(&self) -> rocket::tokio::sync::watch::Receiver<u64> {
        self.store.recorder().commits()
    }

    /// The statistics of a gallery, for its manage key or the owner key it is filed under.
    pub fn stats(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Stats> {
        let record = self.authorize(id, manage_or_owner_key)?;
        let raw = self.store.stats(id, stats::first_recent_hour(now))?;
        let opens = self.store.opens(id)?;
        Ok(stats::assemble(
            &record,
            opens,
            &raw,
            self.tracker.enabled(),
            now,
        ))
    }

    /// A page of a gallery's access log (manage or owner key required), newest first.
    pub fn log_page(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<LogPage> {
        self.authorize(id, manage_or_owner_key)?;
        Ok(self.store.log_page(id, before, limit)?)
    }

    /// Every record of a gallery's log, newest first, while `visit` says so (for exports;
    /// the caller checked the key).
    pub fn log_each(
        &self,
        id: &GalleryId,
        visit: impl FnMut(u64, AccessRecord) -> bool,
    ) -> Result<()> {
        Ok(self.store.log_each(id, None, visit)?)
    }

    /// Remove access-log records older than `days` days (counters and series stay).
    pub(crate) fn prune_log(&self, now: OffsetDateTime, days: u32) -> Result<()> {
        let cutoff = now - Duration::days(i64::from(days));
        let cutoff_ms = crate::clock::Millis::of(cutoff);
        let cutoff_day = u64::try_from(cutoff.unix_timestamp().div_euclid(86_400)).unwrap_or(0);
        while self.store.prune_log(cutoff_ms, cutoff_day, PRUNE_CHUNK)? == PRUNE_CHUNK {}
        Ok(())
    }
}
