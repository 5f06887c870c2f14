//! What one request adds to a gallery's activity rows (a [`Tally`]), and how the recorder
//! applies it inside its transaction: the log record unless the network already logged
//! that kind of event this hour or used up its opens, the counters, the series.

use std::collections::HashMap as StdHashMap;

use redb::{ReadableTable, Table};

use super::StoreError;
use super::activity::{self, DAY, HOUR};

/// Keyed by short strings and rebuilt for every commit: foldhash (see the recorder).
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

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
    /// For a `once` event from a bounded network: (the network's key for this hour and
    /// image, new `once` keys it may add). `once` keys come from visitor hashes, which a
    /// rotated User-Agent renews, so past the allowance a new one is not kept (nor
    /// counted).
    pub once_budget: Option<([u8; 16], u64)>,
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

/// The activity table, open for writing.
pub(super) type ActivityTable<'t> = Table<'t, (&'static str, &'static [u8]), &'static [u8]>;

/// Apply one tally: its log record now, its counters into the batch's roll-up.
pub(super) fn apply_tally<'a>(
    id: &'a str,
    tally: &'a Tally,
    rows: &mut ActivityTable<'_>,
    rollup: &mut Rollup<'a>,
) -> Result<(), StoreError> {
    if let Some(key) = &tally.once {
        if let Some((network, allowed)) = &tally.once_budget {
            let row = activity::seen_row(tally.day, key);
            if rows.get((id, &row[..]))?.is_some() || !take(rows, id, tally.day, network, *allowed)?
            {
                return Ok(());
            }
        }
        if !first_time(rows, id, tally.day, key)? {
            return Ok(());
        }
    }
    let mut record = tally.record.as_deref();
    if let Some(key) = &tally.logged_once
        && !first_time(rows, id, tally.day, key)?
    {
        record = None;
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

/// Use one of `allowed` under `key` on `day` (false, using nothing, when they are spent).
fn take(
    rows: &mut ActivityTable<'_>,
    id: &str,
    day: u64,
    key: &[u8; 16],
    allowed: u64,
) -> Result<bool, StoreError> {
    let row = activity::seen_row(day, key);
    let (used, _) = match rows.get((id, &row[..]))? {
        Some(value) => activity::budget_of(value.value()),
        None => (0, 0),
    };
    if used >= allowed {
        return Ok(false);
    }
    rows.insert((id, &row[..]), &activity::budget_value(used + 1, 0)[..])?;
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

/// Increments summed over a batch, so a busy counter is written once per commit, and each
/// gallery's last log sequence number in this batch.
#[derive(Default)]
pub(super) struct Rollup<'a> {
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

    pub(super) fn write(&self, rows: &mut ActivityTable<'_>) -> Result<(), StoreError> {
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
