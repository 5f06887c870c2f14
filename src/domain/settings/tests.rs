//! Unit tests of settings parsing and validation: each field, the instance policy, clearing.

use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const OPEN: ExpiryPolicy = ExpiryPolicy {
    default: None,
    max: None,
};

fn input(json: &str) -> SettingsInput {
    serde_json::from_str(json).expect("valid JSON")
}

fn field_of(result: Result<Settings, SettingError>) -> &'static str {
    result.expect_err("invalid").field
}

#[test]
fn creation_applies_everything() {
    let s = apply(
        &Settings::default(),
        &input(
            r#"{"expires_in": 3600, "available_from": "2026-06-02T18:00:00+02:00",
                "daily_from": "22:00", "daily_until": "02:00", "days": "fri,sat",
                "timezone": "Europe/Berlin"}"#,
        ),
        &OPEN,
        NOW,
        true,
    )
    .expect("valid");
    assert_eq!(s.expires_at, Some(NOW + Duration::hours(1)));
    assert_eq!(s.available_from, Some(datetime!(2026-06-02 16:00 UTC)));
    let w = s.daily.expect("window");
    assert_eq!(
        (clock_text(w.from), clock_text(w.until)),
        ("22:00".into(), "02:00".into())
    );
    assert_eq!(days_text(w.days), "fri,sat");
    assert_eq!(s.timezone, "Europe/Berlin");
}

#[test]
fn each_bad_value_names_its_field() {
    let bad = [
        (r#"{"expires_at": "tomorrow"}"#, "expires_at"),
        (r#"{"expires_in": -5}"#, "expires_in"),
        (
            r#"{"expires_in": 60, "expires_at": "2026-07-01T00:00:00Z"}"#,
            "expires_in",
        ),
        (
            r#"{"available_from": "2026-07-02T00:00:00Z", "available_until": "2026-07-01T00:00:00Z"}"#,
            "available_until",
        ),
        (
            r#"{"daily_from": "25:00", "daily_until": "10:00"}"#,
            "daily_from",
        ),
        (r#"{"daily_from": "09:00"}"#, "daily_until"),
        (
            r#"{"daily_from": "09:00", "daily_until": "09:00"}"#,
            "daily_until",
        ),
        (
            r#"{"daily_from": "09:00", "daily_until": "17:00", "days": "mon,funday"}"#,
            "days",
        ),
        (r#"{"timezone": "Mars/Olympus"}"#, "timezone"),
        (r#"{"max_opens": 0}"#, "max_opens"),
        (r#"{"max_opens": "lots"}"#, "max_opens"),
        (r#"{"allow_download": "maybe"}"#, "allow_download"),
    ];
    for (json, field) in bad {
        assert_eq!(
            field_of(apply(&Settings::default(), &input(json), &OPEN, NOW, true)),
            field,
            "{json}"
        );
    }
}

#[test]
fn unknown_fields_are_refused() {
    assert!(serde_json::from_str::<SettingsInput>(r#"{"expire_in": 5}"#).is_err());
}

#[test]
fn instance_policy_sets_default_and_maximum() {
    let policy = ExpiryPolicy {
        default: Some(Duration::days(7)),
        max: Some(Duration::days(30)),
    };
    let s = apply(&Settings::default(), &input("{}"), &policy, NOW, true).expect("default");
    assert_eq!(s.expires_at, Some(NOW + Duration::days(7)));
    for json in [
        r#"{"expires_at": null}"#,
        r#"{"expires_in": "never"}"#,
        r#"{"expires_in": 5184000}"#,
    ] {
        assert!(
            apply(&Settings::default(), &input(json), &policy, NOW, true).is_err(),
            "{json}"
        );
    }
    // Editing something else leaves the expiry alone.
    let edited = apply(
        &s,
        &input(r#"{"timezone": "Asia/Tokyo"}"#),
        &policy,
        NOW,
        false,
    )
    .expect("edit");
    assert_eq!(edited.expires_at, s.expires_at);
}

#[test]
fn far_futures_are_refused_by_name_not_overflowed() {
    let month = ExpiryPolicy {
        default: None,
        max: Some(Duration::days(30)),
    };
    for json in [
        r#"{"expires_in": 1000000000000}"#,
        r#"{"expires_in": 9223372036854775807}"#,
    ] {
        for policy in [&OPEN, &month] {
            let result = apply(&Settings::default(), &input(json), policy, NOW, true);
            assert_eq!(field_of(result), "expires_in", "{json}");
        }
    }
    // An instance default past the year 9999 is refused, not added.
    let huge = ExpiryPolicy {
        default: Some(Duration::MAX),
        max: Some(Duration::MAX),
    };
    let result = apply(&Settings::default(), &input("{}"), &huge, NOW, true);
    assert_eq!(field_of(result), "expires_in");
    // A maximum past the last date limits nothing that can be given.
    let last = input(r#"{"expires_at": "9999-12-31T23:59:59Z"}"#);
    let s = apply(&Settings::default(), &last, &huge, NOW, true).expect("within the maximum");
    assert_eq!(s.expires_at, Some(datetime!(9999-12-31 23:59:59 UTC)));
}

#[test]
fn null_clears_and_absent_keeps() {
    let s = apply(
        &Settings::default(),
        &input(r#"{"expires_in": 60, "daily_from": "09:00", "daily_until": "17:00"}"#),
        &OPEN,
        NOW,
        true,
    )
    .expect("valid");
    let kept = apply(&s, &input(r#"{"days": "mon"}"#), &OPEN, NOW, false).expect("valid");
    assert_eq!(kept.expires_at, s.expires_at);
    assert_eq!(kept.daily.map(|w| (w.from, w.days)), Some((9 * 60, 1)));
    let cleared = apply(
        &kept,
        &input(r#"{"expires_at": null, "daily_from": null, "daily_until": null}"#),
        &OPEN,
        NOW,
        false,
    )
    .expect("valid");
    assert_eq!((cleared.expires_at, cleared.daily), (None, None));
}
