//! The server's error log. Lines that say the same thing again and again (a full disk
//! under a flood of requests) are logged once, then once per interval with how many were
//! held back, so a bad minute cannot fill the log or the disk under it.
//!
//! It is managed state of its own (besides `App`), so the error responders can write to it
//! without knowing the app.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::clock::Clock;

/// How often one repeated line is written at most.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Distinct lines remembered; past that the oldest intervals start again.
const KEEP: usize = 1024;

/// The lines seen lately: when each was last written and how many were held back since.
#[derive(Debug, Default)]
pub struct Repeats {
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Repeats {
    /// What to write for `line` at `now`: the line (with the count held back since it was
    /// last written), or nothing if it was written less than [`INTERVAL`] ago.
    pub fn admit(&self, line: &str, now: Instant) -> Option<String> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((last, held)) = seen.get_mut(line) {
            if now.duration_since(*last) < INTERVAL {
                *held += 1;
                return None;
            }
            let out = match *held {
                0 => line.to_owned(),
                n => format!(
                    "{line} (and {n} more times in the last {}s)",
                    INTERVAL.as_secs()
                ),
            };
            *last = now;
            *held = 0;
            return Some(out);
        }
        if seen.len() >= KEEP {
            seen.retain(|_, (last, _)| now.duration_since(*last) < INTERVAL);
            if seen.len() >= KEEP {
                seen.clear();
            }
        }
        seen.insert(line.to_owned(), (now, 0));
        Some(line.to_owned())
    }
}

/// Where error lines go: Rocket's log, each repeated line throttled.
#[derive(Debug, Default)]
pub struct ErrorLog {
    repeats: Repeats,
    clock: Clock,
}

impl ErrorLog {
    /// A log whose intervals are measured on `clock`.
    pub fn new(clock: Clock) -> ErrorLog {
        ErrorLog {
            repeats: Repeats::default(),
            clock,
        }
    }

    /// Log an error line, unless the same line was logged moments ago (then it is counted
    /// and the count comes with the next one).
    pub fn write(&self, line: &str) {
        if let Some(line) = self.repeats.admit(line, self.clock.instant()) {
            rocket::error!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_written_once_per_interval_with_a_count() {
        let repeats = Repeats::default();
        let t0 = Instant::now();
        assert_eq!(repeats.admit("disk full", t0).as_deref(), Some("disk full"));
        for i in 1..1000 {
            assert_eq!(
                repeats.admit("disk full", t0 + Duration::from_millis(i)),
                None
            );
        }
        assert_eq!(repeats.admit("other", t0).as_deref(), Some("other"));
        let later = repeats
            .admit("disk full", t0 + INTERVAL)
            .expect("written again");
        assert!(later.contains("999 more times"), "{later}");
        assert_eq!(
            repeats.admit("disk full", t0 + INTERVAL * 3).as_deref(),
            Some("disk full")
        );
    }
}
