//! Per-client allowances, kept in memory: the GCRA rate limits (files and galleries per
//! hour, wrong upload passwords) and the viewing-password window (wrong guesses per client
//! and gallery), with the server-wide bound on Argon2 runs.
//!
//! Only state and arithmetic live here; the request guards that spend these allowances
//! are `guards/uploads.rs` and the password form (`viewer/password.rs`).

use std::collections::HashMap;
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

/// A per-client rate limit: `n` per hour with bursts of up to `n`, one more every
/// hour/`n` after that (GCRA: one instant per client, the "theoretical arrival time").
/// A client whose instant has passed has its full allowance and needs no entry, which
/// keeps memory bounded by the clients active within the last hour.
#[derive(Debug, Default)]
pub struct RateLimiter(Mutex<HashMap<IpAddr, Instant>>);

impl RateLimiter {
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Instant>> {
        // Each critical section leaves the map valid; a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Use one of `per_hour` for `client` at `now`, or say how long to wait (nothing is
    /// used then). `0` is unlimited.
    pub fn take(&self, client: IpAddr, per_hour: u32, now: Instant) -> Result<(), Duration> {
        let Some(interval) = interval(per_hour) else {
            return Ok(());
        };
        let key = network(client);
        let mut map = self.lock();
        let next = next_arrival(map.get(&key).copied(), interval, now)?;
        if map.len() >= MAX_CLIENTS && !map.contains_key(&key) {
            make_room(&mut map, now);
        }
        map.insert(key, next);
        Ok(())
    }

    /// Whether `client` could [`take`](RateLimiter::take) now, without using anything.
    pub fn check(&self, client: IpAddr, per_hour: u32, now: Instant) -> Result<(), Duration> {
        let Some(interval) = interval(per_hour) else {
            return Ok(());
        };
        let tat = self.lock().get(&network(client)).copied();
        next_arrival(tat, interval, now).map(|_| ())
    }

    /// Forget `client` (e.g. after a right password).
    pub fn forget(&self, client: IpAddr) {
        self.lock().remove(&network(client));
    }

    /// Clients remembered (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn interval(per_hour: u32) -> Option<Duration> {
    (per_hour > 0).then(|| PERIOD / per_hour)
}

/// The arrival time after one more request, or the wait until one is allowed.
fn next_arrival(
    tat: Option<Instant>,
    interval: Duration,
    now: Instant,
) -> Result<Instant, Duration> {
    let next = tat.filter(|t| *t > now).unwrap_or(now) + interval;
    let debt = next - now;
    if debt <= PERIOD {
        Ok(next)
    } else {
        Err(debt - PERIOD)
    }
}

/// Drop clients back at their full allowance; if that is not enough, the half closest to
/// it.
fn make_room(map: &mut HashMap<IpAddr, Instant>, now: Instant) {
    map.retain(|_, tat| *tat > now);
    if map.len() >= MAX_CLIENTS {
        let mut arrivals: Vec<Instant> = map.values().copied().collect();
        let middle = arrivals.len() / 2;
        let (_, median, _) = arrivals.select_nth_unstable(middle);
        let median = *median;
        map.retain(|_, tat| *tat > median);
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
    counted: Mutex<HashMap<Key, (u32, Instant)>>,
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
            counted: Mutex::default(),
            verifiers: Arc::new(Semaphore::new(permits)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, (u32, Instant)>> {
        self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count an attempt before it is checked, so guesses sent together cannot all pass
    /// the limit while the first is still being verified. `Err` holds the seconds to wait
    /// when this client has used up its attempts.
    pub fn reserve(&self, key: &Key, now: Instant) -> Result<(), u64> {
        let mut map = self.lock();
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let entry = map.entry(key.clone()).or_insert((0, now));
        let elapsed = now.duration_since(entry.1);
        if elapsed >= WINDOW {
            *entry = (0, now);
        } else if entry.0 >= MAX_FAILURES {
            return Err((WINDOW - elapsed).as_secs().max(1));
        }
        entry.0 += 1;
        Ok(())
    }

    /// Give back an attempt that was never checked (the server was busy).
    pub fn release(&self, key: &Key) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    /// The right password: this client starts afresh.
    pub fn succeeded(&self, key: &Key) {
        self.lock().remove(key);
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
