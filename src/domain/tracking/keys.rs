//! The day and hour numbers counts are kept under, and the key of an image's counters.

use time::OffsetDateTime;

use crate::domain::access;
use crate::model::{Digest, Settings};

/// Seconds in a day and an hour, for the day and hour numbers keys use.
pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;

/// The counter key of one image: the start of its original's digest, so engagement stays
/// with the image when the owner reorders the gallery.
pub fn image_key(image: &Digest) -> String {
    image.to_hex()[..16].to_owned()
}

/// Day number of `t` (UTC).
pub fn day_of(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp().div_euclid(DAY)).unwrap_or(0)
}

/// Hour number of `t`.
pub fn hour_of(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp().div_euclid(HOUR)).unwrap_or(0)
}

/// Day number of `t` in the gallery's time zone (for the daily series).
pub fn local_day(settings: &Settings, t: OffsetDateTime) -> u64 {
    let offset = access::zoned(&access::zone_of(settings), t)
        .offset()
        .seconds();
    u64::try_from((t.unix_timestamp() + i64::from(offset)).div_euclid(DAY)).unwrap_or(0)
}
