//! The recorder: the one writer of open counts, the access log and its roll-ups.
//!
//! Viewers' opens must be exact under any concurrency (a limit of 50 admits exactly 50) and
//! durable before the page is served. A redb commit is durable but costs an fsync, so one
//! thread takes every waiting request, decides them in arrival order inside one write
//! transaction, commits once, and only then answers each: one fsync serves the whole batch
//! (group commit). Log records of everything else (reloads, previews, refusals, image
//! views, downloads) ride along in the same batches without anyone waiting for them.
//! Reads never wait for it.

use std::collections::HashMap as StdHashMap;
use std::sync::Arc;
use std::sync::mpsc;

use redb::{Database, ReadableTable, Table};
use rocket::tokio::sync::{oneshot, watch};

use super::activity;
use super::cache::GalleryCache;
use super::handle::Handle;
use super::tables::{ACTIVITY, GALLERIES};
pub use super::tally::Tally;
use super::tally::{ActivityTable, Rollup, apply_tally};
use super::{StoreError, decode};
use crate::ids::GalleryId;
use crate::model::GalleryRecord;

/// The batch's maps are keyed by short strings and rebuilt for every commit. SipHash was a
/// visible part of the recorder's time; foldhash is several times faster and, seeded at
/// random per map, still keeps crafted keys (a referrer host, say) from colliding.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

/// Most requests decided in one transaction.
const MAX_BATCH: usize = 4096;

/// The answer to a new viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Counted and committed: this is open number `opens`.
    Admitted {
        /// The count including this open.
        opens: u64,
    },
    /// The view limit is used up; nothing was counted.
    LimitReached,
    /// The gallery no longer exists.
    Gone,
}

enum Job {
    Open {
        gallery: GalleryId,
        admitted: Option<Box<Tally>>,
        refused: Option<Box<Tally>>,
        reply: oneshot::Sender<Result<Admission, StoreError>>,
    },
    Note {
        gallery: GalleryId,
        tally: Box<Tally>,
    },
    Flush {
        reply: oneshot::Sender<()>,
    },
}

/// Handle to the recorder thread. Dropping it lets the thread finish its batch and waits
/// for it, so the database is closed when the store is.
#[derive(Debug)]
pub struct Recorder {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    commits: watch::Receiver<u64>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Open { .. } => "Open",
            Job::Note { .. } => "Note",
            Job::Flush { .. } => "Flush",
        })
    }
}

impl Recorder {
    /// Start the writer thread. `group_commit: false` commits every job on its own (only
    /// for measuring what group commit gains).
    pub(super) fn start(
        db: Arc<Handle>,
        cache: Arc<GalleryCache>,
        group_commit: bool,
    ) -> Result<Recorder, StoreError> {
        let (jobs, incoming) = mpsc::channel::<Job>();
        let (published, commits) = watch::channel(0);
        let writer = Writer {
            db,
            cache,
            max_batch: if group_commit { MAX_BATCH } else { 1 },
            published,
        };
        let thread = std::thread::Builder::new()
            .name("maiimg-recorder".into())
            .spawn(move || writer.run(&incoming))
            .map_err(|e| StoreError::Db(e.into()))?;
        Ok(Recorder {
            jobs: Some(jobs),
            thread: Some(thread),
            commits,
        })
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        match self.jobs.as_ref().map(|j| j.send(job)) {
            Some(Ok(())) => Ok(()),
            _ => Err(StoreError::Recorder("the recorder has stopped".into())),
        }
    }

    /// Count a new viewer's open if the limit allows, durably, before answering. The
    /// matching tally is applied with it: `admitted` when counted, `refused` when the
    /// limit was reached.
    pub async fn open(
        &self,
        gallery: &GalleryId,
        admitted: Option<Tally>,
        refused: Option<Tally>,
    ) -> Result<Admission, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Open {
            gallery: gallery.clone(),
            admitted: admitted.map(Box::new),
            refused: refused.map(Box::new),
            reply,
        })?;
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Recorder(
                "the recorder dropped a request".into(),
            ))
        })
    }

    /// Record something nobody waits for; it is committed with the next batch.
    pub fn note(&self, gallery: &GalleryId, tally: Tally) -> Result<(), StoreError> {
        self.send(Job::Note {
            gallery: gallery.clone(),
            tally: Box::new(tally),
        })
    }

    /// Wait until everything noted before this call is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Job::Flush { reply })?;
        done.await
            .map_err(|_| StoreError::Recorder("the recorder stopped".into()))
    }

    /// A receiver that changes after every commit (for live statistics).
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.commits.clone()
    }
}

struct Writer {
    db: Arc<Handle>,
    cache: Arc<GalleryCache>,
    max_batch: usize,
    published: watch::Sender<u64>,
}

/// Per gallery in a batch: its limit (`None` if the gallery is gone) and running count.
type Limits<'a> = HashMap<&'a str, (Option<Option<u64>>, u64)>;

impl Writer {
    fn run(mut self, incoming: &mpsc::Receiver<Job>) {
        while let Ok(first) = incoming.recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match incoming.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if batch.iter().all(|job| matches!(job, Job::Flush { .. })) {
                // Everything sent before these was committed with earlier batches.
                for job in batch {
                    if let Job::Flush { reply } = job {
                        let _ = reply.send(());
                    }
                }
                continue;
            }
            match self.apply(&batch) {
                Ok((answers, counts)) => {
                    self.cache
                        .set_opens(counts.iter().map(|(id, n)| (id.as_str(), *n)));
                    self.published.send_modify(|n| *n += 1);
                    let mut answers = answers.into_iter();
                    for job in batch {
                        match job {
                            Job::Open { reply, .. } => {
                                let answer = answers.next().unwrap_or(Admission::Gone);
                                let _ = reply.send(Ok(answer));
                            }
                            Job::Flush { reply } => {
                                let _ = reply.send(());
                            }
                            Job::Note { .. } => {}
                        }
                    }
                }
                Err(e) => {
                    for job in batch {
                        match job {
                            Job::Open { reply, .. } => {
                                let _ = reply.send(Err(e.again()));
                            }
                            Job::Flush { reply } => {
                                let _ = reply.send(());
                            }
                            Job::Note { .. } => {}
                        }
                    }
                }
            }
        }
    }

    /// Decide every open in arrival order, apply every tally, and commit once. Returns the
    /// answers to the opens in order and the new counts.
    #[allow(clippy::type_complexity)]
    fn apply(&mut self, batch: &[Job]) -> Result<(Vec<Admission>, Vec<(String, u64)>), StoreError> {
        let handle = Arc::clone(&self.db);
        let current = handle.get()?;
        handle.observe(self.apply_in(&current, batch))
    }

    #[allow(clippy::type_complexity)]
    fn apply_in(
        &mut self,
        db: &Database,
        batch: &[Job],
    ) -> Result<(Vec<Admission>, Vec<(String, u64)>), StoreError> {
        let txn = db.begin_write()?;
        let mut answers = Vec::new();
        let mut limits: Limits = HashMap::default();
        let mut rollup = Rollup::default();
        {
            let galleries = txn.open_table(GALLERIES)?;
            let mut rows = txn.open_table(ACTIVITY)?;
            for job in batch {
                let (id, tally) = match job {
                    Job::Open {
                        gallery,
                        admitted,
                        refused,
                        ..
                    } => {
                        let id = gallery.as_str();
                        let (limit, count) = limit_of(&mut limits, &galleries, &rows, id)?;
                        let (answer, tally) = match limit {
                            None => (Admission::Gone, None),
                            Some(Some(max)) if *count >= *max => {
                                (Admission::LimitReached, refused.as_deref())
                            }
                            Some(_) => {
                                *count += 1;
                                (Admission::Admitted { opens: *count }, admitted.as_deref())
                            }
                        };
                        answers.push(answer);
                        (id, tally)
                    }
                    Job::Note { gallery, tally } => {
                        let id = gallery.as_str();
                        let (limit, _) = limit_of(&mut limits, &galleries, &rows, id)?;
                        (id, limit.is_some().then_some(&**tally))
                    }
                    Job::Flush { .. } => continue,
                };
                if let Some(tally) = tally {
                    apply_tally(id, tally, &mut rows, &mut rollup)?;
                }
            }
            for (id, (limit, count)) in &limits {
                if limit.is_some() {
                    rows.insert(
                        (*id, &activity::OPENS[..]),
                        &activity::count_value(*count)[..],
                    )?;
                }
            }
            rollup.write(&mut rows)?;
        }
        txn.commit()?;
        let counts = limits
            .into_iter()
            .filter(|(_, (limit, _))| limit.is_some())
            .map(|(id, (_, count))| (id.to_owned(), count))
            .collect();
        Ok((answers, counts))
    }
}

/// Look up (once per batch) a gallery's view limit and committed count.
fn limit_of<'a, 'b>(
    limits: &'b mut Limits<'a>,
    galleries: &Table<&str, &[u8]>,
    rows: &ActivityTable<'_>,
    id: &'a str,
) -> Result<&'b mut (Option<Option<u64>>, u64), StoreError> {
    if !limits.contains_key(id) {
        let limit = match galleries.get(id)? {
            Some(v) => Some(decode::<GalleryRecord>(v.value())?.settings.max_opens),
            None => None,
        };
        let count = activity::opens_of(rows, id)?;
        limits.insert(id, (limit, count));
    }
    limits
        .get_mut(id)
        .ok_or_else(|| StoreError::Recorder("limit lookup".into()))
}
