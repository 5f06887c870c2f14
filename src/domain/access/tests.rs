//! Unit tests of the access decision: each rule and its order, daily windows across DST
//! changes, and the state a gallery is in for its owner.

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

#[test]
fn each_gallery_state_has_one_name_on_the_wire() {
    let names: Vec<_> = GalleryState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "active",
            "disabled",
            "expired",
            "exhausted",
            "scheduled",
            "outside-hours"
        ]
    );
    for state in GalleryState::ALL {
        let json = serde_json::to_string(&state).expect("serialised");
        assert_eq!(json, format!("\"{}\"", state.as_str()));
    }
}

#[test]
fn a_password_or_an_end_is_not_a_state_of_its_own() {
    let now = datetime!(2030-01-01 12:00 UTC);
    let protected = Settings {
        password_hash: Some("x".into()),
        ..Settings::default()
    };
    assert_eq!(GalleryState::of(&protected, 0, now), GalleryState::Active);
    let ended = Settings {
        available_until: Some(now),
        ..Settings::default()
    };
    assert_eq!(GalleryState::of(&ended, 0, now), GalleryState::Expired);
}
