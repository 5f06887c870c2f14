//! The admin side's pure parts: when a gallery is over for good, sort names, states.

use super::*;
use crate::model::Settings;

fn record(settings: Settings) -> GalleryRecord {
    GalleryRecord {
        title: String::new(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        manage_key_hash: Digest([0; 32]),
        images: Vec::new(),
        settings,
        owner: None,
        taken_down: false,
    }
}

#[test]
fn over_since_takes_the_earliest_final_closing() {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
    let open = record(Settings::default());
    assert_eq!(over_since(&open, 5, None, now), None);

    let expired = record(Settings {
        expires_at: Some(now - Duration::days(3)),
        available_until: Some(now - Duration::days(5)),
        ..Settings::default()
    });
    assert_eq!(
        over_since(&expired, 0, None, now),
        Some(now - Duration::days(5))
    );
    let later = record(Settings {
        expires_at: Some(now + Duration::days(3)),
        ..Settings::default()
    });
    assert_eq!(over_since(&later, 0, None, now), None);

    let limited = record(Settings {
        max_opens: Some(2),
        ..Settings::default()
    });
    let mark = ExhaustedMark {
        since: Millis::of(now - Duration::days(9)),
        opens: 2,
    };
    assert_eq!(
        over_since(&limited, 2, Some(mark), now),
        Some(now - Duration::days(9))
    );
    // Reopened (limit raised, or more opens since): the mark no longer applies.
    assert_eq!(over_since(&limited, 3, Some(mark), now), None);
    assert_eq!(over_since(&limited, 1, Some(mark), now), None);
    assert_eq!(over_since(&limited, 2, None, now), None);
}

#[test]
fn sort_names_round_trip() {
    for (sort, name) in SortBy::ALL {
        assert_eq!(SortBy::parse(name), Some(sort));
        assert_eq!(sort.name(), name);
    }
    assert_eq!(SortBy::parse("age"), Some(SortBy::Newest));
    assert_eq!(SortBy::parse("random"), None);
}

#[test]
fn states_name_what_a_new_viewer_gets() {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
    let s = |settings: Settings, opens| GalleryState::of(&settings, opens, now).as_str();
    assert_eq!(s(Settings::default(), 0), "active");
    let off = Settings {
        enabled: false,
        ..Settings::default()
    };
    assert_eq!(s(off, 0), "disabled");
    let limited = Settings {
        max_opens: Some(1),
        ..Settings::default()
    };
    assert_eq!(s(limited, 1), "exhausted");
    let gone = Settings {
        expires_at: Some(now),
        ..Settings::default()
    };
    assert_eq!(s(gone, 0), "expired");
    let protected = Settings {
        password_hash: Some("x".into()),
        ..Settings::default()
    };
    assert_eq!(s(protected, 0), "active");
}
