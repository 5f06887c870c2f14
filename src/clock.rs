//! The application's time. The server reads the system clock; tests build the app with a
//! manual clock they set and advance in-process, so nothing time-dependent needs a sleep.
//! There is no way to shift the release binary's clock from outside (no setting, no
//! variable): only code that builds the app itself can.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Wall-clock time and a monotonic instant, both from one source.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<Manual>>>);

#[derive(Debug)]
struct Manual {
    wall: OffsetDateTime,
    /// The monotonic instant is the real one at creation plus what the test advanced.
    start: Instant,
    advanced: Duration,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `wall` until told otherwise.
    pub fn manual(wall: OffsetDateTime) -> Clock {
        Clock(Some(Arc::new(Mutex::new(Manual {
            wall,
            start: Instant::now(),
            advanced: Duration::ZERO,
        }))))
    }

    /// Now, as a date.
    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            None => OffsetDateTime::now_utc(),
            Some(m) => m.lock().unwrap_or_else(PoisonError::into_inner).wall,
        }
    }

    /// Now, as a monotonic instant (for rate limits and timeouts).
    pub fn instant(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(m) => {
                let m = m.lock().unwrap_or_else(PoisonError::into_inner);
                m.start + m.advanced
            }
        }
    }

    /// Move a manual clock forward (a system clock ignores this).
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.0 {
            let mut m = m.lock().unwrap_or_else(PoisonError::into_inner);
            m.wall += by;
            m.advanced += by;
        }
    }
}

/// A moment as the database stores it: whole milliseconds since the Unix epoch (UTC). One
/// type for every stored instant, so a count of milliseconds is never taken for another
/// number, and the conversion is written once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// `t` as stored (saturating past what an `i64` holds).
    pub fn of(t: OffsetDateTime) -> Millis {
        Millis(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
    }

    /// The moment this stands for (`None` past what `time` can hold).
    pub fn time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()
    }

    /// Milliseconds from `earlier` to this (negative if `earlier` is later), saturating.
    pub fn since(self, earlier: Millis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let clock = Clock::manual(start);
        let (wall, mono) = (clock.now(), clock.instant());
        assert_eq!(wall, start);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.now() - wall, time::Duration::hours(1));
        assert_eq!(clock.instant() - mono, Duration::from_secs(3600));
        let copy = clock.clone();
        copy.advance(Duration::from_secs(1));
        assert_eq!(clock.now() - wall, time::Duration::seconds(3601));
    }

    #[test]
    fn stored_instants_round_trip_to_the_millisecond() {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_764_000_000_123);
        assert_eq!(Millis::of(t), Millis(1_764_000_000_123));
        assert_eq!(Millis::of(t).time(), Some(t));
        assert_eq!(Millis(5).since(Millis(2)), 3);
        assert_eq!(Millis(i64::MAX).time(), None);
    }
}
