//! The one function that decides whether a viewer may see a gallery now.
//!
//! Time is an argument, never read here, so every rule is testable at any instant
//! (DST changes included) without sleeping.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{DailyWindow, Settings};

/// Why a gallery is not shown, in the order the rules are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The owner turned the link off.
    Disabled,
    /// Past `expires_at`.
    Expired,
    /// `max_opens` used up (new viewers only).
    Limit,
    /// Before `available_from`.
    Scheduled,
    /// After `available_until`.
    Ended,
    /// Outside the daily hours.
    Hours,
    /// A password is needed.
    Password,
}

impl Reason {
    /// The `data-reason` value and API state name.
    pub fn slug(self) -> &'static str {
        match self {
            Reason::Disabled => "disabled",
            Reason::Expired => "expired",
            Reason::Limit => "limit",
            Reason::Scheduled => "scheduled",
            Reason::Ended => "ended",
            Reason::Hours => "hours",
            Reason::Password => "password",
        }
    }
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Show it.
    Allowed,
    /// Refuse, saying why and, when it will open by itself, when.
    Denied {
        /// Why.
        reason: Reason,
        /// The next moment it opens (scheduled release or the next daily window).
        opens_at: Option<OffsetDateTime>,
    },
}

fn deny(reason: Reason, opens_at: Option<OffsetDateTime>) -> Decision {
    Decision::Denied { reason, opens_at }
}

/// Who is asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    /// Holds a valid ticket: already admitted and counted. The view limit no longer applies
    /// to them (others using up the limit does not lock them out); everything else does.
    pub admitted: bool,
}

/// Decide, in this order: disabled → expired → view limit → not yet released / ended /
/// outside the daily hours → password needed → allowed. `opens` is the count so far; the recorder makes the
/// final, exact check when it counts a new open.
pub fn decide(settings: &Settings, opens: u64, viewer: Viewer, now: OffsetDateTime) -> Decision {
    if !settings.enabled {
        return deny(Reason::Disabled, None);
    }
    if settings.expires_at.is_some_and(|t| now >= t) {
        return deny(Reason::Expired, None);
    }
    if !viewer.admitted && settings.max_opens.is_some_and(|max| opens >= max) {
        return deny(Reason::Limit, None);
    }
    if let Some(from) = settings.available_from.filter(|from| now < *from) {
        let opens_at = match &settings.daily {
            Some(window) => window.next_open(&zone_of(settings), from),
            None => Some(from),
        };
        return deny(Reason::Scheduled, opens_at);
    }
    if settings.available_until.is_some_and(|until| now >= until) {
        return deny(Reason::Ended, None);
    }
    if let Some(window) = &settings.daily {
        let zone = zone_of(settings);
        if !window.contains(&zone, now) {
            let opens_at = window
                .next_open(&zone, now)
                .filter(|t| settings.available_until.is_none_or(|until| *t < until))
                .filter(|t| settings.expires_at.is_none_or(|exp| *t < exp));
            return deny(Reason::Hours, opens_at);
        }
    }
    if settings.password_hash.is_some() && !viewer.admitted {
        return deny(Reason::Password, None);
    }
    Decision::Allowed
}

/// A gallery's state for the people who own or run it: what a new viewer would get right
/// now. A password does not make a gallery inactive in their eyes. Its one name,
/// [`GalleryState::as_str`], is what the JSON API sends, what `data-state` says and what
/// the scripts match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub enum GalleryState {
    /// A new viewer would see it (perhaps after a password).
    Active,
    /// The owner (or the administrator) switched the link off.
    Disabled,
    /// Past its expiry, or past the end of its availability.
    Expired,
    /// Its view limit is used up.
    Exhausted,
    /// Not released yet.
    Scheduled,
    /// Outside its daily hours.
    OutsideHours,
}

impl GalleryState {
    /// Every state, in the order of the rules.
    pub const ALL: [GalleryState; 6] = [
        GalleryState::Active,
        GalleryState::Disabled,
        GalleryState::Expired,
        GalleryState::Exhausted,
        GalleryState::Scheduled,
        GalleryState::OutsideHours,
    ];

    /// The state of a gallery with these settings and opens at `now`.
    pub fn of(settings: &Settings, opens: u64, now: OffsetDateTime) -> GalleryState {
        GalleryState::with_opening(settings, opens, now).0
    }

    /// [`GalleryState::of`], and when it opens by itself (a scheduled release or the next
    /// daily window).
    pub fn with_opening(
        settings: &Settings,
        opens: u64,
        now: OffsetDateTime,
    ) -> (GalleryState, Option<OffsetDateTime>) {
        match decide(settings, opens, Viewer { admitted: false }, now) {
            Decision::Allowed => (GalleryState::Active, None),
            Decision::Denied { reason, opens_at } => {
                let state = match reason {
                    Reason::Disabled => GalleryState::Disabled,
                    Reason::Expired | Reason::Ended => GalleryState::Expired,
                    Reason::Limit => GalleryState::Exhausted,
                    Reason::Scheduled => GalleryState::Scheduled,
                    Reason::Hours => GalleryState::OutsideHours,
                    Reason::Password => return (GalleryState::Active, None),
                };
                (state, opens_at)
            }
        }
    }

    /// Its name on the wire and in pages: `active`, `disabled`, `expired`, `exhausted`,
    /// `scheduled` or `outside-hours`.
    pub fn as_str(self) -> &'static str {
        match self {
            GalleryState::Active => "active",
            GalleryState::Disabled => "disabled",
            GalleryState::Expired => "expired",
            GalleryState::Exhausted => "exhausted",
            GalleryState::Scheduled => "scheduled",
            GalleryState::OutsideHours => "outside-hours",
        }
    }
}

impl From<GalleryState> for &'static str {
    fn from(state: GalleryState) -> &'static str {
        state.as_str()
    }
}

/// The gallery's time zone (validated when set; UTC if the name is no longer known).
pub fn zone_of(settings: &Settings) -> TimeZone {
    zone_of_name(&settings.timezone)
}

/// A time zone by IANA name, UTC if unknown.
pub fn zone_of_name(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// `t` as a zoned civil time in `zone`.
pub fn zoned(zone: &TimeZone, t: OffsetDateTime) -> jiff::ZonedDateTime {
    let ts = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned_datetime(zone.clone())
}

fn instant(z: &jiff::ZonedDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(z.timestamp().as_nanosecond())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn day_index(day: Weekday) -> u8 {
    day.to_monday_zero_offset() as u8
}

fn second_of_day(t: Time) -> u32 {
    u32::from(t.hour() as u8) * 3600
        + u32::from(t.minute() as u8) * 60
        + u32::from(t.second() as u8)
}

impl DailyWindow {
    fn on(&self, day: Weekday) -> bool {
        self.days & (1 << day_index(day)) != 0
    }

    /// Is `now` inside a window, in `zone`'s local time? A window whose end is before its
    /// start runs past midnight into the next day.
    pub fn contains(&self, zone: &TimeZone, now: OffsetDateTime) -> bool {
        let local = zoned(zone, now);
        let t = second_of_day(local.time());
        let (from, until) = (u32::from(self.from) * 60, u32::from(self.until) * 60);
        let day = local.weekday();
        if from < until {
            self.on(day) && from <= t && t < until
        } else {
            (self.on(day) && t >= from) || (self.on(day.previous()) && t < until)
        }
    }

    /// The first moment at or after `after` inside a window, if one starts within a week.
    pub fn next_open(&self, zone: &TimeZone, after: OffsetDateTime) -> Option<OffsetDateTime> {
        if self.contains(zone, after) {
            return Some(after);
        }
        let start = zoned(zone, after).date();
        (0..=7).find_map(|offset| {
            let date = start.checked_add(jiff::Span::new().days(offset)).ok()?;
            if !self.on(date.weekday()) {
                return None;
            }
            let opening = date
                .at((self.from / 60) as i8, (self.from % 60) as i8, 0, 0)
                .to_zoned_datetime(zone.clone())
                .ok()?;
            let opening = instant(&opening);
            (opening > after).then_some(opening)
        })
    }
}

#[cfg(test)]
mod tests;
