//! Per-client allowances, kept in memory, all one mechanism ([`Allowances`] under a
//! [`Rule`]): the rate limits of so many an hour (files and galleries, wrong upload
//! passwords: [`PerHour`]), the viewing-password window (wrong guesses per client and
//! gallery: [`InWindow`]) with the server-wide bound on Argon2 runs, and the admin sign-in's
//! doubling waits (`admin/backoff.rs`).
//!
//! Only state and arithmetic live here; the request guards that spend these allowances
//! are `guards/uploads.rs` and the password form (`viewer/password.rs`).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::front::network_of as network;
use crate::web::error::WebError;

/// The window every per-hour limit is measured over.
const PERIOD: Duration = Duration::from_secs(3600);
/// Clients remembered per limiter; past this, the ones closest to a full allowance are
/// forgotten first (forgetting only ever gives a client its full allowance back).
const MAX_CLIENTS: usize = 100_000;

/// How one kind of allowance is used and comes back: what is remembered of a client, when
/// it must wait, and when forgetting it changes nothing. Every limit here is an
/// [`Allowances`] table under one of these rules.
pub trait Rule {
    /// What is remembered of one client.
    type Entry: Copy + std::fmt::Debug;
    /// How long a client with `entry` must wait before its next use (zero: it may go now).
    fn wait(&self, entry: &Self::Entry, now: Instant) -> Duration;
    /// The entry after one more use at `now`.
    fn spend(&self, entry: Option<Self::Entry>, now: Instant) -> Self::Entry;
    /// The entry with one use given back.
    fn refund(&self, entry: Self::Entry) -> Self::Entry;
    /// How long until forgetting `entry` changes nothing (zero: it may go now). The
    /// clients furthest from that are the last forgotten when memory is short.
    fn owed(&self, entry: &Self::Entry, now: Instant) -> Duration;
}

/// Clients' allowances under one rule, by key, in bounded memory: past `capacity` clients,
/// those whose forgetting changes nothing go first, then the half closest to it (forgetting
/// only ever gives a client its full allowance back).
#[derive(Debug)]
pub struct Allowances<K, E> {
    entries: Mutex<HashMap<K, E>>,
    capacity: usize,
}

impl<K: Hash + Eq, E: Copy> Allowances<K, E> {
    /// A table of at most `capacity` clients.
    pub fn new(capacity: usize) -> Allowances<K, E> {
        Allowances {
            entries: Mutex::default(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, E>> {
        // Each critical section leaves the map valid; a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Use one of `key`'s allowance at `now`, or say how long to wait (nothing is used then).
    pub fn take<R: Rule<Entry = E>>(&self, key: K, rule: &R, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        let entry = map.get(&key).copied();
        match entry.map(|e| rule.wait(&e, now)) {
            Some(wait) if !wait.is_zero() => return Err(wait),
            _ => {}
        }
        self.put(&mut map, key, rule.spend(entry, now), rule, now);
        Ok(())
    }

    /// Use one of `key`'s allowance at `now` whatever is left of it (a failure to count).
    pub fn spend<R: Rule<Entry = E>>(&self, key: K, rule: &R, now: Instant) {
        let mut map = self.lock();
        let entry = rule.spend(map.get(&key).copied(), now);
        self.put(&mut map, key, entry, rule, now);
    }

    /// Whether `key` could [`take`](Allowances::take) now, without using anything.
    pub fn check<R: Rule<Entry = E>>(
        &self,
        key: &K,
        rule: &R,
        now: Instant,
    ) -> Result<(), Duration> {
        match self.lock().get(key).map(|e| rule.wait(e, now)) {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// Give back one use of `key`'s (one that was never checked).
    pub fn refund<R: Rule<Entry = E>>(&self, key: &K, rule: &R) {
        if let Some(entry) = self.lock().get_mut(key) {
            *entry = rule.refund(*entry);
        }
    }

    /// Forget `key`: its whole allowance is back.
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Clients remembered (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn put<R: Rule<Entry = E>>(
        &self,
        map: &mut HashMap<K, E>,
        key: K,
        entry: E,
        rule: &R,
        now: Instant,
    ) {
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, e| !rule.owed(e, now).is_zero());
            if map.len() >= self.capacity {
                let mut owed: Vec<Duration> = map.values().map(|e| rule.owed(e, now)).collect();
                let middle = owed.len() / 2;
                let (_, median, _) = owed.select_nth_unstable(middle);
                let median = *median;
                map.retain(|_, e| rule.owed(e, now) > median);
            }
        }
        map.insert(key, entry);
    }
}

/// `n` per hour with bursts of up to `n`, one more every hour/`n` after that (GCRA: one
/// instant per client, the "theoretical arrival time"). A client whose instant has passed
/// has its full allowance and needs no entry, which keeps memory bounded by the clients
/// active within the last hour.
#[derive(Debug, Clone, Copy)]
pub struct PerHour {
    interval: Duration,
}

impl PerHour {
    /// `n` an hour; `None` for 0, which is unlimited.
    pub fn new(n: u32) -> Option<PerHour> {
        (n > 0).then(|| PerHour {
            interval: PERIOD / n,
        })
    }
}

impl Rule for PerHour {
    type Entry = Instant;

    fn wait(&self, tat: &Instant, now: Instant) -> Duration {
        // One more would put the arrival time more than an hour ahead.
        (*tat.max(&now) + self.interval).saturating_duration_since(now + PERIOD)
    }

    fn spend(&self, tat: Option<Instant>, now: Instant) -> Instant {
        tat.filter(|t| *t > now).unwrap_or(now) + self.interval
    }

    fn refund(&self, tat: Instant) -> Instant {
        tat.checked_sub(self.interval).unwrap_or(tat)
    }

    fn owed(&self, tat: &Instant, now: Instant) -> Duration {
        tat.saturating_duration_since(now)
    }
}

/// At most `max` uses in a window that starts at a client's first use and ends `window`
/// later; then the count starts again.
#[derive(Debug, Clone, Copy)]
pub struct InWindow {
    /// Uses allowed per window.
    pub max: u32,
    /// How long a window lasts.
    pub window: Duration,
}

impl Rule for InWindow {
    /// Uses counted, and when the window began.
    type Entry = (u32, Instant);

    fn wait(&self, &(count, since): &(u32, Instant), now: Instant) -> Duration {
        let left = self.window.saturating_sub(now.duration_since(since));
        if count >= self.max {
            left
        } else {
            Duration::ZERO
        }
    }

    fn spend(&self, entry: Option<(u32, Instant)>, now: Instant) -> (u32, Instant) {
        match entry {
            Some((count, since)) if now.duration_since(since) < self.window => (count + 1, since),
            _ => (1, now),
        }
    }

    fn refund(&self, (count, since): (u32, Instant)) -> (u32, Instant) {
        (count.saturating_sub(1), since)
    }

    fn owed(&self, &(_, since): &(u32, Instant), now: Instant) -> Duration {
        self.window.saturating_sub(now.duration_since(since))
    }
}

/// A per-client rate limit of so many an hour, shared by an IPv4 address or an IPv6 /64.
#[derive(Debug)]
pub struct RateLimiter(Allowances<IpAddr, Instant>);

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter(Allowances::new(MAX_CLIENTS))
    }
}

impl RateLimiter {
    /// Use one of `per_hour` for `client` at `now`, or say how long to wait (nothing is
    /// used then). `0` is unlimited.
    pub fn take(&self, client: IpAddr, per_hour: u32, now: Instant) -> Result<(), Duration> {
        match PerHour::new(per_hour) {
            Some(rule) => self.0.take(network(client), &rule, now),
            None => Ok(()),
        }
    }

    /// Whether `client` could [`take`](RateLimiter::take) now, without using anything.
    pub fn check(&self, client: IpAddr, per_hour: u32, now: Instant) -> Result<(), Duration> {
        match PerHour::new(per_hour) {
            Some(rule) => self.0.check(&network(client), &rule, now),
            None => Ok(()),
        }
    }

    /// Forget `client` (e.g. after a right password).
    pub fn forget(&self, client: IpAddr) {
        self.0.forget(&network(client));
    }

    /// Clients remembered (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no client is remembered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The per-client allowances of this instance.
#[derive(Debug, Default)]
pub struct Limits {
    /// Files uploaded.
    pub uploads: RateLimiter,
    /// Galleries created.
    pub galleries: RateLimiter,
    /// Wrong upload passwords of a private instance.
    pub password_failures: RateLimiter,
}

/// How long to wait, in words: "3 minutes", "1 minute": a wait in whole minutes, rounded up.
pub fn minutes(wait: Duration) -> String {
    match wait.as_secs().div_ceil(60).max(1) {
        1 => "1 minute".to_owned(),
        n => format!("{n} minutes"),
    }
}

/// How long to wait, for `Retry-After`: whole seconds, rounded up, at least one.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Wrong attempts allowed per client and gallery within [`WINDOW`].
const MAX_FAILURES: u32 = 5;
/// How long wrong attempts are remembered.
const WINDOW: Duration = Duration::from_secs(10 * 60);
/// The viewing-password rule.
const PASSWORD_WINDOW: InWindow = InWindow {
    max: MAX_FAILURES,
    window: WINDOW,
};
/// How long a password waits for a free verifier before the server says it is busy. A
/// waiting request costs a parked future, not an Argon2 buffer, so it may wait a while;
/// the cap keeps a flood from holding connections open without end.
const VERIFIER_WAIT: Duration = Duration::from_secs(5);

/// Whose attempts on which gallery: the client's address and the gallery's id.
pub type Key = (IpAddr, String);

/// Recent attempts by (client address, gallery), and the server-wide bound on Argon2
/// verifications running at once.
#[derive(Debug)]
pub struct Attempts {
    /// Attempts counted in the current window, and when that window began.
    counted: Allowances<Key, (u32, Instant)>,
    /// One permit per verification: each holds ~19 MiB for its run, so this bounds their
    /// memory however many guesses arrive together.
    verifiers: Arc<Semaphore>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts::with_verifiers(verifier_count())
    }
}

/// One verifier per core, two at least (one slow guess must not hold up every gallery)
/// and four at most (more would add memory, not speed, on a small server).
fn verifier_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

impl Attempts {
    fn with_verifiers(permits: usize) -> Attempts {
        Attempts {
            counted: Allowances::new(MAX_CLIENTS),
            verifiers: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Count an attempt before it is checked, so guesses sent together cannot all pass
    /// the limit while the first is still being verified. `Err` holds the seconds to wait
    /// when this client has used up its attempts.
    pub fn reserve(&self, key: &Key, now: Instant) -> Result<(), u64> {
        self.counted
            .take(key.clone(), &PASSWORD_WINDOW, now)
            .map_err(|wait| wait.as_secs().max(1))
    }

    /// Give back an attempt that was never checked (the server was busy).
    pub fn release(&self, key: &Key) {
        self.counted.refund(key, &PASSWORD_WINDOW);
    }

    /// The right password: this client starts afresh.
    pub fn succeeded(&self, key: &Key) {
        self.counted.forget(key);
    }

    /// Wait for a free verifier, or say the server is busy. The permit is owned, so the
    /// blocking task it moves into holds it until Argon2 is done even if the request goes
    /// away.
    pub async fn verifier(&self) -> Result<OwnedSemaphorePermit, WebError> {
        let wait = Arc::clone(&self.verifiers).acquire_owned();
        match rocket::tokio::time::timeout(VERIFIER_WAIT, wait).await {
            Ok(permit) => permit.map_err(WebError::internal),
            Err(_) => Err(WebError::Busy(VERIFIER_WAIT.as_secs())),
        }
    }
}

#[cfg(test)]
mod tests;
