//! The one function that decides whether a viewer may see a gallery now.
//!
//! Time is an argument, never read here, so every rule is testable at any instant
//! (DST changes included) without sleeping.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
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

/// What a new viewer would get right now, named for the owner (`active`, `disabled`,
/// `expired`, `exhausted`, `scheduled`, `outside-hours`), and when it opens by itself. A
/// password does not make a gallery inactive in the owner's eyes.
pub fn owner_state(
    settings: &Settings,
    opens: u64,
    now: OffsetDateTime,
) -> (&'static str, Option<OffsetDateTime>) {
    match decide(settings, opens, Viewer { admitted: false }, now) {
        Decision::Allowed => ("active", None),
        Decision::Denied { reason, opens_at } => {
            let name = match reason {
                Reason::Disabled => "disabled",
                Reason::Expired | Reason::Ended => "expired",
                Reason::Limit => "exhausted",
                Reason::Scheduled => "scheduled",
                Reason::Hours => "outside-hours",
                Reason::Password => return ("active", None),
            };
            (name, opens_at)
        }
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
mod tests {
    use time::macros::datetime;

    use super::*;

    fn window(from: &str, until: &str, days: u8) -> DailyWindow {
        let minutes = |t: &str| {
            let (h, m) = t.split_once(':').expect("HH:MM");
            h.parse::<u16>().expect("hour") * 60 + m.parse::<u16>().expect("minute")
        };
        DailyWindow {
            from: minutes(from),
            until: minutes(until),
            days,
        }
    }

    fn reason(d: Decision) -> Option<Reason> {
        match d {
            Decision::Allowed => None,
            Decision::Denied { reason, .. } => Some(reason),
        }
    }

    #[test]
    fn reasons_are_checked_in_order() {
        let now = datetime!(2026-06-01 12:00 UTC);
        let mut s = Settings {
            enabled: false,
            max_opens: None,
            allow_download: true,
            expires_at: Some(now),
            available_from: Some(now + time::Duration::hours(1)),
            available_until: None,
            daily: Some(window("00:00", "00:01", 0x7f)),
            timezone: "UTC".into(),
            password_hash: Some("$argon2id$…".into()),
            ticket_epoch: 0,
        };
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Disabled)
        );
        s.enabled = true;
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Expired)
        );
        s.expires_at = None;
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Scheduled)
        );
        s.available_from = Some(now - time::Duration::hours(2));
        s.available_until = Some(now - time::Duration::hours(1));
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Ended)
        );
        s.available_until = None;
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Hours)
        );
        s.daily = None;
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), now)),
            Some(Reason::Password)
        );
        assert_eq!(
            decide(&s, 0, Viewer { admitted: true }, now),
            Decision::Allowed
        );
        s.password_hash = None;
        assert_eq!(decide(&s, 0, Viewer::default(), now), Decision::Allowed);
        s.max_opens = Some(2);
        assert_eq!(
            reason(decide(&s, 2, Viewer::default(), now)),
            Some(Reason::Limit)
        );
        let admitted = Viewer { admitted: true };
        assert_eq!(decide(&s, 2, admitted, now), Decision::Allowed);
        s.expires_at = Some(now);
        assert_eq!(reason(decide(&s, 2, admitted, now)), Some(Reason::Expired));
    }

    #[test]
    fn expiry_is_exact_at_the_boundary() {
        let at = datetime!(2026-06-01 12:00:00 UTC);
        let s = Settings {
            expires_at: Some(at),
            ..Settings::default()
        };
        let just_before = at - time::Duration::nanoseconds(1);
        assert_eq!(
            decide(&s, 0, Viewer::default(), just_before),
            Decision::Allowed
        );
        assert_eq!(
            reason(decide(&s, 0, Viewer::default(), at)),
            Some(Reason::Expired)
        );
    }

    #[test]
    fn scheduled_release_says_when() {
        let from = datetime!(2026-06-05 16:00 UTC);
        let s = Settings {
            available_from: Some(from),
            ..Settings::default()
        };
        assert_eq!(
            decide(&s, 0, Viewer::default(), from - time::Duration::minutes(1)),
            Decision::Denied {
                reason: Reason::Scheduled,
                opens_at: Some(from)
            }
        );
        assert_eq!(decide(&s, 0, Viewer::default(), from), Decision::Allowed);
    }

    #[test]
    fn daily_hours_follow_local_time_across_dst() {
        // Berlin switches from CET (+01) to CEST (+02) on Sunday 2026-03-29.
        let s = Settings {
            daily: Some(window("09:00", "17:00", 0x7f)),
            timezone: "Europe/Berlin".into(),
            ..Settings::default()
        };
        // Saturday, CET: 09:00 local is 08:00 UTC.
        assert_eq!(
            reason(decide(
                &s,
                0,
                Viewer::default(),
                datetime!(2026-03-28 07:59 UTC)
            )),
            Some(Reason::Hours)
        );
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-03-28 08:00 UTC)),
            Decision::Allowed
        );
        assert_eq!(
            reason(decide(
                &s,
                0,
                Viewer::default(),
                datetime!(2026-03-28 16:00 UTC)
            )),
            Some(Reason::Hours)
        );
        // Sunday, CEST: 09:00 local is 07:00 UTC, and 17:00 local is 15:00 UTC.
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-03-29 07:00 UTC)),
            Decision::Allowed
        );
        assert_eq!(
            reason(decide(
                &s,
                0,
                Viewer::default(),
                datetime!(2026-03-29 15:00 UTC)
            )),
            Some(Reason::Hours)
        );
        // Closed Saturday evening: it opens again Sunday at 09:00 CEST.
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-03-28 20:00 UTC)),
            Decision::Denied {
                reason: Reason::Hours,
                opens_at: Some(datetime!(2026-03-29 07:00 UTC))
            }
        );
    }

    #[test]
    fn a_window_may_run_past_midnight_on_chosen_days() {
        // Fridays 22:00 to 02:00 (the Saturday morning belongs to Friday's window).
        let friday = 1 << 4;
        let s = Settings {
            daily: Some(window("22:00", "02:00", friday)),
            ..Settings::default()
        };
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-06-05 23:00 UTC)),
            Decision::Allowed
        ); // Fri
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-06-06 01:59 UTC)),
            Decision::Allowed
        ); // Sat
        assert_eq!(
            reason(decide(
                &s,
                0,
                Viewer::default(),
                datetime!(2026-06-06 02:00 UTC)
            )),
            Some(Reason::Hours)
        );
        assert_eq!(
            reason(decide(
                &s,
                0,
                Viewer::default(),
                datetime!(2026-06-06 23:00 UTC)
            )),
            Some(Reason::Hours)
        );
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-06-01 12:00 UTC)), // Monday
            Decision::Denied {
                reason: Reason::Hours,
                opens_at: Some(datetime!(2026-06-05 22:00 UTC))
            }
        );
    }

    #[test]
    fn a_scheduled_release_outside_the_hours_opens_with_the_next_window() {
        let s = Settings {
            available_from: Some(datetime!(2026-06-05 05:00 UTC)),
            daily: Some(window("09:00", "17:00", 0x7f)),
            ..Settings::default()
        };
        assert_eq!(
            decide(&s, 0, Viewer::default(), datetime!(2026-06-01 12:00 UTC)),
            Decision::Denied {
                reason: Reason::Scheduled,
                opens_at: Some(datetime!(2026-06-05 09:00 UTC))
            }
        );
    }
}
