//! The disk reserve: free space on the data directory's filesystem, and the floor below
//! which the instance stops growing its files (uploads refused, the access log paused).
//!
//! The database grows with its log and the blob tree with uploads; `max_storage_bytes`
//! bounds only the image files. When the disk fills anyway, redb's next commit fails and
//! every write stops, counted opens included. Refusing to grow while there is still room
//! keeps the one write that matters — counting opens, a fixed row per gallery rewritten in
//! place — going.
//!
//! Free space is a `statvfs` (through `fs4`, without `unsafe`), measured at most every
//! [`MEASURE_EVERY`] by whichever caller finds the value stale; everyone else reads the
//! cached atomic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How stale a measurement may be.
pub const MEASURE_EVERY: Duration = Duration::from_secs(5);
/// The default reserve is the smaller of this…
pub const DEFAULT_RESERVE_BYTES: u64 = 1 << 30;
/// …and this share (in percent) of the filesystem, so a small disk is not "full" at once.
pub const DEFAULT_RESERVE_PERCENT: u64 = 5;

/// Where free space is read from: the filesystem, or a value that code building the app
/// sets (tests; there is no setting that reaches this from outside).
#[derive(Clone, Debug, Default)]
pub struct FreeSpace(Option<Arc<AtomicU64>>);

impl FreeSpace {
    /// The data directory's filesystem.
    pub fn filesystem() -> FreeSpace {
        FreeSpace(None)
    }

    /// A value set by hand, starting at `bytes`.
    pub fn fixed(bytes: u64) -> FreeSpace {
        FreeSpace(Some(Arc::new(AtomicU64::new(bytes))))
    }

    /// Change a fixed value (the filesystem's ignores this).
    pub fn set(&self, bytes: u64) {
        if let Some(value) = &self.0 {
            value.store(bytes, Ordering::Relaxed);
        }
    }
}

/// The configured floor and the latest measurement.
#[derive(Debug)]
pub struct Reserve {
    /// Bytes that must stay free; 0 turns the reserve off.
    min_free: u64,
    dir: PathBuf,
    source: FreeSpace,
    /// The last measurement (`u64::MAX` until one succeeded: never refuse on no data).
    free: AtomicU64,
    /// When to measure again; held only by the one caller measuring.
    next: Mutex<Option<Instant>>,
}

impl Reserve {
    /// The reserve of the filesystem holding `dir`: `configured` bytes, or when `None` the
    /// default (1 GiB or 5 % of the filesystem, whichever is smaller).
    pub fn new(dir: &Path, configured: Option<u64>, source: FreeSpace) -> Reserve {
        let min_free = configured.unwrap_or_else(|| {
            let total = match source.0 {
                None => fs4::total_space(dir).ok(),
                Some(_) => None,
            };
            total.map_or(DEFAULT_RESERVE_BYTES, |total| {
                (total / 100 * DEFAULT_RESERVE_PERCENT).min(DEFAULT_RESERVE_BYTES)
            })
        });
        Reserve {
            min_free,
            dir: dir.to_path_buf(),
            source,
            free: AtomicU64::new(u64::MAX),
            next: Mutex::new(None),
        }
    }

    /// Bytes that must stay free (0: off).
    pub fn min_free(&self) -> u64 {
        self.min_free
    }

    /// Free bytes as last measured, measuring first if that was longer ago than
    /// [`MEASURE_EVERY`] before `now` (the app clock's instant).
    pub fn free(&self, now: Instant) -> u64 {
        if let Some(value) = &self.source.0 {
            return value.load(Ordering::Relaxed);
        }
        // One caller measures; the others take the cached value rather than wait.
        if let Ok(mut next) = self.next.try_lock()
            && next.is_none_or(|at| now >= at)
        {
            *next = Some(now + MEASURE_EVERY);
            if let Ok(free) = fs4::available_space(&self.dir) {
                self.free.store(free, Ordering::Relaxed);
            }
        }
        self.free.load(Ordering::Relaxed)
    }

    /// Whether free space is below the reserve (never when it is off).
    pub fn low(&self, now: Instant) -> bool {
        self.min_free != 0 && self.free(now) < self.min_free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_source_is_read_as_set_and_zero_is_off() {
        let dir = std::env::temp_dir();
        let source = FreeSpace::fixed(10 << 20);
        let reserve = Reserve::new(&dir, Some(5 << 20), source.clone());
        let now = Instant::now();
        assert!(!reserve.low(now));
        source.set(4 << 20);
        assert!(reserve.low(now), "a fixed value is not cached");
        let off = Reserve::new(&dir, Some(0), FreeSpace::fixed(0));
        assert!(!off.low(now));
        assert_eq!(
            Reserve::new(&dir, None, source).min_free(),
            DEFAULT_RESERVE_BYTES
        );
    }

    #[test]
    fn the_filesystem_is_measured_at_most_every_few_seconds() {
        let dir = std::env::temp_dir();
        let reserve = Reserve::new(&dir, None, FreeSpace::filesystem());
        assert!(reserve.min_free() <= DEFAULT_RESERVE_BYTES);
        let now = Instant::now();
        let free = reserve.free(now);
        assert!(free > 0 && free < u64::MAX, "{free}");
        // A stale-looking value proves the next read within the interval is cached.
        reserve.free.store(7, Ordering::Relaxed);
        assert_eq!(reserve.free(now + MEASURE_EVERY / 2), 7);
        assert_ne!(reserve.free(now + MEASURE_EVERY), 7);
    }
}
