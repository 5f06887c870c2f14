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

use super::activity::{self, DAY, HOUR};
use super::cache::GalleryCache;
use super::handle::Handle;
use super::tables::{ACTIVITY, GALLERIES};
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

/// What one request adds to the access log and the roll-ups, all in the recorder's
/// transaction. The domain decides what to count; the recorder only applies it.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// UTC day of the event: the scope of `once` and `first`.
    pub day: u64,
    /// Apply nothing if this key was already seen that day (a viewer's second look at the
    /// same image).
    pub once: Option<[u8; 16]>,
    /// The log record, as [`encode_record`](super::encode_record) made it: encoded on the
    /// request's thread, so the one recorder thread only copies bytes.
    pub record: Option<Vec<u8>>,
    /// The key whose first sighting that day raises the counters added with
    /// [`Tally::count_first`] (a unique visitor).
    pub first: Option<[u8; 16]>,
    /// For opens: (hour since the epoch, local day since the epoch) of the time series.
    pub series: Option<(u64, u64)>,
    /// Write `record` only the first time this key is seen that day (the domain makes it
    /// one per network, hour and kind of event); the counters count every time.
    pub logged_once: Option<[u8; 16]>,
    /// For an open from a bounded network: (the network's key for this hour, opens it may
    /// log one by one). Past that the open raises only the series, and one aggregate
    /// record per key says how many more there were.
    pub budget: Option<([u8; 16], u64)>,
    /// The counters to raise, packed (see [`Counts`]).
    counts: Counts,
}

impl Tally {
    /// A tally of an event on UTC `day` that records and counts nothing yet.
    pub fn new(day: u64) -> Tally {
        Tally {
            day,
            ..Tally::default()
        }
    }

    /// Raise the counter `name` by one.
    pub fn count(&mut self, name: std::fmt::Arguments<'_>) {
        self.counts.push(false, name);
    }

    /// Raise the counter `name` by one if `first` was not seen yet that day.
    pub fn count_first(&mut self, name: std::fmt::Arguments<'_>) {
        self.counts.push(true, name);
    }

    /// The counters to raise: (only on a first sighting, activity row).
    fn counters(&self) -> impl Iterator<Item = (bool, &[u8])> {
        self.counts.iter()
    }
}

/// Longest counter name kept (names come from User-Agents and referrers, already bounded).
const MAX_NAME: usize = 512;

/// Counter rows packed in one buffer, `[length u16 LE][first 0|1][row]` each: one
/// allocation for a request's counters rather than one per name, and the recorder
/// borrows its keys from it.
#[derive(Clone, Debug, Default)]
struct Counts(Vec<u8>);

impl Counts {
    fn push(&mut self, first: bool, name: std::fmt::Arguments<'_>) {
        use std::io::Write as _;
        let at = self.0.len();
        self.0
            .extend_from_slice(&[0, 0, u8::from(first), activity::COUNTER]);
        // Writing to a Vec cannot fail.
        let _ = self.0.write_fmt(name);
        self.0.truncate(at + 4 + MAX_NAME);
        let len = u16::try_from(self.0.len() - at - 3).unwrap_or(u16::MAX);
        self.0[at..at + 2].copy_from_slice(&len.to_le_bytes());
    }

    fn iter(&self) -> impl Iterator<Item = (bool, &[u8])> {
        let mut rest = self.0.as_slice();
        std::iter::from_fn(move || {
            let (head, tail) = rest.split_at_checked(3)?;
            let len = usize::from(u16::from_le_bytes([head[0], head[1]]));
            let (row, tail) = tail.split_at_checked(len)?;
            rest = tail;
            Some((head[2] == 1, row))
        })
    }
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

/// The activity table, open for writing.
type ActivityTable<'t> = Table<'t, (&'static str, &'static [u8]), &'static [u8]>;

/// Apply one tally: its log record now, its counters into the batch's roll-up.
fn apply_tally<'a>(
    id: &'a str,
    tally: &'a Tally,
    rows: &mut ActivityTable<'_>,
    rollup: &mut Rollup<'a>,
) -> Result<(), StoreError> {
    if let Some(key) = &tally.once {
        if !first_time(rows, id, tally.day, key)? {
            return Ok(());
        }
    }
    let mut record = tally.record.as_deref();
    if let Some(key) = &tally.logged_once {
        if !first_time(rows, id, tally.day, key)? {
            record = None;
        }
    }
    let folded = match (&tally.budget, record) {
        (Some((key, allowed)), Some(bytes)) => {
            fold_open(id, tally.day, key, *allowed, bytes, rows, rollup)?
        }
        _ => false,
    };
    if folded || (tally.record.is_some() && record.is_none()) {
        // Not logged on its own: the statistics' version must still move.
        *rollup.counters.entry((id, activity::UNLOGGED)).or_default() += 1;
    }
    if let (Some(record), false) = (record, folded) {
        let seq = rollup.next_seq(rows, id)?;
        rows.insert((id, &activity::log_row(seq)[..]), record)?;
    }
    if !folded {
        let first = match &tally.first {
            Some(key) => first_time(rows, id, tally.day, key)?,
            None => false,
        };
        // Names come from User-Agents and referrers: a folded open adds none, so a flood
        // of made-up browsers cannot add rows.
        for (only_first, row) in tally.counters() {
            if first || !only_first {
                *rollup.counters.entry((id, row)).or_default() += 1;
            }
        }
    }
    if let Some((hour, day)) = tally.series {
        *rollup
            .series
            .entry((id, activity::numbered(HOUR, hour)))
            .or_default() += 1;
        *rollup
            .series
            .entry((id, activity::numbered(DAY, day)))
            .or_default() += 1;
    }
    Ok(())
}

/// Whether `key` is seen for the first time on `day` (and note that it was).
fn first_time(
    rows: &mut ActivityTable<'_>,
    id: &str,
    day: u64,
    key: &[u8; 16],
) -> Result<bool, StoreError> {
    // A lookup first: most keys were seen before, and a lookup dirties no page.
    let row = activity::seen_row(day, key);
    if rows.get((id, &row[..]))?.is_some() {
        return Ok(false);
    }
    rows.insert((id, &row[..]), &[][..])?;
    Ok(true)
}

/// Count an open against its network's hour (`key`). Within `allowed` it is logged as
/// usual (false); past it, the hour's aggregate record is written or raised by one (true).
fn fold_open<'a>(
    id: &'a str,
    day: u64,
    key: &[u8; 16],
    allowed: u64,
    record: &[u8],
    rows: &mut ActivityTable<'_>,
    rollup: &mut Rollup<'a>,
) -> Result<bool, StoreError> {
    let row = activity::seen_row(day, key);
    let (opens, seq) = match rows.get((id, &row[..]))? {
        Some(value) => activity::budget_of(value.value()),
        None => (0, 0),
    };
    let opens = opens + 1;
    if opens <= allowed {
        rows.insert((id, &row[..]), &activity::budget_value(opens, 0)[..])?;
        return Ok(false);
    }
    let more = opens - allowed;
    let log = |seq| (id, activity::log_row(seq));
    let earlier = match seq {
        0 => None,
        seq => rows.get((id, &log(seq).1[..]))?.map(|v| v.value().to_vec()),
    };
    let (seq, aggregate) = match earlier {
        Some(bytes) => (seq, activity::aggregate_record(&bytes, more)?),
        // The first one past the budget (or its record was pruned): a new record.
        None => (
            rollup.next_seq(rows, id)?,
            activity::aggregate_record(record, more)?,
        ),
    };
    rows.insert((id, &log(seq).1[..]), aggregate.as_slice())?;
    rows.insert((id, &row[..]), &activity::budget_value(opens, seq)[..])?;
    Ok(true)
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

/// Increments summed over a batch, so a busy counter is written once per commit, and each
/// gallery's last log sequence number in this batch.
#[derive(Default)]
struct Rollup<'a> {
    counters: HashMap<(&'a str, &'a [u8]), u64>,
    series: HashMap<(&'a str, [u8; 9]), u64>,
    seq: HashMap<&'a str, u64>,
}

impl<'a> Rollup<'a> {
    /// The next log sequence number of gallery `id` in this batch.
    fn next_seq(&mut self, rows: &ActivityTable<'_>, id: &'a str) -> Result<u64, StoreError> {
        let seq = match self.seq.get(id) {
            Some(seq) => *seq + 1,
            None => activity::last_seq(rows, id)? + 1,
        };
        self.seq.insert(id, seq);
        Ok(seq)
    }

    fn write(&self, rows: &mut ActivityTable<'_>) -> Result<(), StoreError> {
        let all = self
            .counters
            .iter()
            .map(|((id, row), n)| (*id, *row, *n))
            .chain(self.series.iter().map(|((id, row), n)| (*id, &row[..], *n)));
        for (id, row, n) in all {
            let old = activity::get_count(rows, id, row)?;
            rows.insert((id, row), &activity::count_value(old + n)[..])?;
        }
        Ok(())
    }
}
