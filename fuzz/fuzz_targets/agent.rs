//! User-Agent and referrer parsing (`UA\nreferrer`): labels are short, bots are classed as
//! bots, and the referrer never carries more than a host (no path, query, credentials,
//! space or control character) and at most 100 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::tracking::agent::{DeviceClass, parse, preview_bot};
use maiimg::domain::tracking::referrer::referrer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (ua, referer) = match text.split_once('\n') {
        Some((ua, r)) => (ua, Some(r)),
        None => (text, None),
    };
    let agent = parse(ua);
    assert!(!agent.os.is_empty() && !agent.browser.is_empty());
    assert_eq!(agent.bot, preview_bot(ua));
    if agent.bot.is_some() {
        assert_eq!(agent.device, DeviceClass::Bot);
    }
    // The kept labels come from at most 512 bytes of the UA.
    assert!(agent.os.len() <= 600 && agent.browser.len() <= 600);

    let source = referrer(referer, &agent);
    assert!(!source.is_empty() && source.len() <= 100, "{source:?}");
    assert!(
        !source.contains(['/', '?', '#', '@']),
        "more than a host: {source:?}"
    );
    assert!(
        !source.chars().any(|c| c.is_control() || c == '\u{FFFD}'),
        "{source:?}"
    );
    if agent.app.is_none() && !source.contains(' ') {
        // Not an app's display name ("Proton Mail" has a space): a host or package,
        // lower case.
        assert!(
            source
                .chars()
                .all(|c| !c.is_uppercase() || c.is_ascii_uppercase()),
            "{source:?}"
        );
    }
});
