//! Wrong secrets per client (the admin token): a few are free, then each one makes the
//! client wait twice as long as the last, up to [`LONGEST`]. A guesser is slowed to a few
//! tries an hour, but nobody, not even a stranger behind the administrator's address, can
//! lock the administrator out for longer than that (a fixed hourly allowance could: ten
//! wrong tries closed the door for an hour). Signed-in sessions never pass through here.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::web::throttle::{Allowances, Rule};

/// Failures that cost no wait.
pub const FREE: u32 = 9;
/// The longest wait.
pub const LONGEST: Duration = Duration::from_secs(300);
/// Clients remembered at most (the ones whose wait ended longest ago go first).
const KEEP: usize = 10_000;

/// A client's failures, and the end of its wait.
#[derive(Debug, Clone, Copy)]
pub struct Failures {
    count: u32,
    until: Instant,
}

/// Waits that double after the free tries.
#[derive(Debug)]
struct Doubling;

impl Rule for Doubling {
    type Entry = Failures;

    fn wait(&self, f: &Failures, now: Instant) -> Duration {
        f.until.saturating_duration_since(now)
    }

    fn spend(&self, f: Option<Failures>, now: Instant) -> Failures {
        let count = f.map_or(0, |f| f.count) + 1;
        let wait = match count.checked_sub(FREE) {
            None | Some(0) => Duration::ZERO,
            Some(n) => Duration::from_secs(1u64 << (n - 1).min(16)).min(LONGEST),
        };
        Failures {
            count,
            until: now + wait,
        }
    }

    fn refund(&self, f: Failures) -> Failures {
        Failures {
            count: f.count.saturating_sub(1),
            ..f
        }
    }

    fn owed(&self, f: &Failures, now: Instant) -> Duration {
        // Remembered for the longest wait after its own ends, so a client cannot shed its
        // count by pausing between tries.
        (f.until + LONGEST).saturating_duration_since(now)
    }
}

/// Failures by client.
#[derive(Debug)]
pub struct Backoff(Allowances<IpAddr, Failures>);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Allowances::new(KEEP))
    }
}

impl Backoff {
    /// `Err(wait)` while `client` must wait before its next try.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        self.0.check(&client, &Doubling, now)
    }

    /// A wrong try by `client`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        self.0.spend(client, &Doubling, now);
    }

    /// A right try: the client starts afresh.
    pub fn forget(&self, client: IpAddr) {
        self.0.forget(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_tries_and_never_pass_the_longest() {
        let backoff = Backoff::default();
        let client: IpAddr = [192, 0, 2, 1].into();
        let mut now = Instant::now();
        for _ in 0..FREE {
            assert!(backoff.check(client, now).is_ok());
            backoff.failed(client, now);
        }
        assert!(
            backoff.check(client, now).is_ok(),
            "the free tries cost nothing"
        );
        let mut last = Duration::ZERO;
        for _ in 0..20 {
            backoff.failed(client, now);
            let wait = backoff.check(client, now).expect_err("must wait");
            assert!(wait >= last && wait <= LONGEST);
            last = wait;
            now += wait;
        }
        assert_eq!(last, LONGEST);
        assert!(backoff.check([192, 0, 2, 2].into(), now).is_ok());
        backoff.forget(client);
        assert!(backoff.check(client, now).is_ok());
    }
}
