//! Whether the bucket answers, for the health checks: what the last call or probe said,
//! and one small request (a probe) when that is older than a moment.
//!
//! A monitor or load balancer may ask `/healthz` every second from several places while
//! the store hangs; each asking the store itself would stack up calls that each wait their
//! whole timeout. So every asker shares one probe at a time, its answer counts for
//! [`Reachability::fresh`], and nobody waits for it longer than [`Reachability::wait`]:
//! past that, the answer is the last one known and the probe goes on in the background.

use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::is_bucket_failure;

/// The store's state as last seen, shared by the calls that see it and the health checks
/// that ask for it.
#[derive(Debug)]
pub(super) struct Reachability {
    state: Mutex<State>,
    /// Signalled when a probe ends.
    settled: Condvar,
    /// How long an answer (a call's or a probe's) stands without asking again.
    fresh: Duration,
    /// How long an asker waits for a probe before taking the last known answer.
    wait: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// What the last failure said, until a call or probe is answered.
    failure: Option<String>,
    /// When the store last answered or failed; `None`: never asked yet.
    known_at: Option<Instant>,
    /// A probe is in flight.
    probing: bool,
}

/// A probe in flight: [`Probe::finish`] with its outcome. Dropped unfinished (its task
/// dropped with a runtime shutting down), it still ends, so the next asker starts another.
#[derive(Debug)]
pub(super) struct Probe(Arc<Reachability>);

impl Probe {
    /// Note the probe's outcome and wake whoever waits for it.
    pub(super) fn finish<T>(self, result: &io::Result<T>) {
        self.0.note(result);
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.lock().probing = false;
        self.0.settled.notify_all();
    }
}

impl Reachability {
    pub(super) fn new(fresh: Duration, wait: Duration) -> Arc<Reachability> {
        Arc::new(Reachability {
            state: Mutex::new(State::default()),
            settled: Condvar::new(),
            fresh,
            wait,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep a call's outcome: failing from a call that failed for the store's sake until
    /// one is answered (a missing object is an answer too). Other errors (ours) say nothing
    /// about the store.
    pub(super) fn note<T>(&self, result: &io::Result<T>) {
        let mut state = self.lock();
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotFound => state.failure = None,
            Err(e) if is_bucket_failure(e) => state.failure = Some(e.to_string()),
            Err(_) => return,
            Ok(_) => state.failure = None,
        }
        state.known_at = Some(Instant::now());
    }

    /// `None` while the store answers, else what its last failure said. When nothing
    /// newer than `fresh` is known, a probe is started with `launch` (unless one is in
    /// flight already) and waited for, at most `wait`.
    pub(super) fn failure(self: &Arc<Self>, launch: impl FnOnce(Probe)) -> Option<String> {
        let mut state = self.lock();
        let stale = state.known_at.is_none_or(|at| at.elapsed() >= self.fresh);
        if !stale {
            return state.failure.clone();
        }
        if !state.probing {
            state.probing = true;
            // Launched unlocked: the probe takes the lock to report.
            drop(state);
            launch(Probe(Arc::clone(self)));
            state = self.lock();
        }
        let deadline = Instant::now() + self.wait;
        while state.probing {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .settled
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        state.failure.clone()
    }
}

#[cfg(test)]
mod tests;
