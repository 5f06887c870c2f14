//! Settings from JSON (first byte even) or form fields (odd: `name=value` lines): an
//! accepted result is valid (expiry within the policy, a real window and time zone, a
//! positive view limit), and its daily window reads back as text the parser accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::settings::{ExpiryPolicy, SettingsInput, apply, clock_text, days_text};
use maiimg::model::Settings;
use time::{Duration, OffsetDateTime};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut input = if mode % 2 == 0 {
        match serde_json::from_slice::<SettingsInput>(rest) {
            Ok(input) => input,
            Err(_) => return,
        }
    } else {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let mut input = SettingsInput::default();
        for line in text.lines() {
            let (name, value) = line.split_once('=').unwrap_or((line, ""));
            input.set(name, value.to_owned());
        }
        input
    };
    // Argon2 takes ~20 MiB and tens of milliseconds a call: leave passwords to the tests.
    input.password = None;
    input
        .hash_password()
        .expect("no password, nothing to check");

    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid instant");
    let policy = match mode / 2 % 3 {
        0 => ExpiryPolicy {
            default: None,
            max: None,
        },
        1 => ExpiryPolicy {
            default: Some(Duration::days(7)),
            max: Some(Duration::days(30)),
        },
        _ => ExpiryPolicy {
            default: None,
            max: Some(Duration::MAX),
        },
    };
    let creating = mode & 0x80 != 0;
    let Ok(s) = apply(&Settings::default(), &input, &policy, now, creating) else {
        return;
    };
    if let Some(max) = policy.max
        && (creating || input.expires_at.is_some() || input.expires_in.is_some())
    {
        let at = s.expires_at.expect("this policy needs an expiry");
        if let Some(end) = now
            .checked_add(max)
            .and_then(|t| t.checked_add(Duration::minutes(1)))
        {
            assert!(at <= end, "expiry {at} past {end}");
        }
    }
    assert!(s.max_opens != Some(0));
    if let (Some(from), Some(until)) = (s.available_from, s.available_until) {
        assert!(from < until);
    }
    jiff::tz::TimeZone::get(&s.timezone).expect("a valid time zone");
    if let Some(w) = s.daily {
        assert!(
            w.from < 24 * 60 && w.until < 24 * 60 && w.from != w.until,
            "{w:?}"
        );
        assert!(w.days != 0 && w.days < 0x80, "{w:?}");
        // What the manage page shows must be accepted back unchanged.
        let mut back = SettingsInput::default();
        back.set("daily_from", clock_text(w.from));
        back.set("daily_until", clock_text(w.until));
        back.set("days", days_text(w.days));
        let again = apply(&Settings::default(), &back, &policy, now, false)
            .expect("the shown window is accepted");
        assert_eq!(again.daily, Some(w));
    }
});
