//! Wrong secrets per client (the admin token): a few are free, then each one makes the
//! client wait twice as long as the last, up to [`LONGEST`]. A guesser is slowed to a few
//! tries an hour, but nobody, not even a stranger behind the administrator's address, can
//! lock the administrator out for longer than that (a fixed hourly allowance could: ten
//! wrong tries closed the door for an hour). Signed-in sessions never pass through here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures that cost no wait.
pub const FREE: u32 = 9;
/// The longest wait.
pub const LONGEST: Duration = Duration::from_secs(300);
/// Clients remembered at most (the ones whose wait ended longest ago go first).
const KEEP: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Instant,
}

/// Failures by client.
#[derive(Debug, Default)]
pub struct Backoff {
    by_client: Mutex<HashMap<IpAddr, Failures>>,
}

impl Backoff {
    /// `Err(wait)` while `client` must wait before its next try.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let by_client = self
            .by_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match by_client.get(&client) {
            Some(f) if f.until > now => Err(f.until - now),
            _ => Ok(()),
        }
    }

    /// A wrong try by `client`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut by_client = self
            .by_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if by_client.len() >= KEEP && !by_client.contains_key(&client) {
            by_client.retain(|_, f| f.until + LONGEST > now);
            if by_client.len() >= KEEP {
                by_client.clear();
            }
        }
        let entry = by_client.entry(client).or_insert(Failures {
            count: 0,
            until: now,
        });
        entry.count += 1;
        let wait = match entry.count.checked_sub(FREE) {
            None | Some(0) => Duration::ZERO,
            Some(n) => Duration::from_secs(1u64 << (n - 1).min(16)).min(LONGEST),
        };
        entry.until = now + wait;
    }

    /// A right try: the client starts afresh.
    pub fn forget(&self, client: IpAddr) {
        self.by_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&client);
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
