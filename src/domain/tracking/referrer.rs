//! Where a visitor came from: the app that opened the link (from its in-app browser, or
//! the `android-app://` referrer Chrome Custom Tabs send), a known web app, or the bare
//! referring host — never a path or a query.

use super::agent::{Agent, truncate};

/// The referrer shown in statistics is at most this long.
const MAX_REFERRER: usize = 100;

/// Android apps that open links in Chrome Custom Tabs, by package (lowercase).
const ANDROID_APPS: &[(&str, &str)] = &[
    ("com.whatsapp", "WhatsApp"),
    ("com.whatsapp.w4b", "WhatsApp"),
    ("org.telegram.messenger", "Telegram"),
    ("org.telegram.messenger.web", "Telegram"),
    ("org.thunderdog.challegram", "Telegram"),
    ("com.google.android.gm", "Gmail"),
    ("com.slack", "Slack"),
    ("com.discord", "Discord"),
    ("com.instagram.android", "Instagram"),
    ("com.facebook.orca", "Messenger"),
    ("com.facebook.katana", "Facebook"),
    ("com.facebook.lite", "Facebook"),
    ("com.linkedin.android", "LinkedIn"),
    ("com.twitter.android", "X"),
    ("org.thoughtcrime.securesms", "Signal"),
    ("com.microsoft.teams", "Teams"),
    ("com.microsoft.office.outlook", "Outlook"),
    ("com.reddit.frontpage", "Reddit"),
    ("com.google.android.googlequicksearchbox", "Google"),
    ("com.google.android.apps.messaging", "Messages"),
    ("jp.naver.line.android", "LINE"),
    ("com.snapchat.android", "Snapchat"),
    ("com.zhiliaoapp.musically", "TikTok"),
    ("com.viber.voip", "Viber"),
    ("com.instagram.barcelona", "Threads"),
    ("xyz.blueskyweb.app", "Bluesky"),
    ("org.joinmastodon.android", "Mastodon"),
    ("ch.protonmail.android", "Proton Mail"),
];

/// Web hosts of known apps: the host itself or any subdomain of it.
const WEB_APPS: &[(&str, &str)] = &[
    ("whatsapp.com", "WhatsApp"),
    ("wa.me", "WhatsApp"),
    ("telegram.org", "Telegram"),
    ("t.me", "Telegram"),
    ("mail.google.com", "Gmail"),
    ("messenger.com", "Messenger"),
    ("facebook.com", "Facebook"),
    ("fb.com", "Facebook"),
    ("instagram.com", "Instagram"),
    ("threads.net", "Threads"),
    ("threads.com", "Threads"),
    ("t.co", "X"),
    ("x.com", "X"),
    ("twitter.com", "X"),
    ("lnkd.in", "LinkedIn"),
    ("linkedin.com", "LinkedIn"),
    ("slack.com", "Slack"),
    ("discord.com", "Discord"),
    ("discordapp.com", "Discord"),
    ("outlook.live.com", "Outlook"),
    ("outlook.office.com", "Outlook"),
    ("outlook.office365.com", "Outlook"),
    ("teams.microsoft.com", "Teams"),
    ("teams.live.com", "Teams"),
    ("reddit.com", "Reddit"),
    ("bsky.app", "Bluesky"),
    ("mail.proton.me", "Proton Mail"),
];

/// Where the visitor came from, for the statistics: a known app ("WhatsApp", "Telegram",
/// "Gmail", "Facebook", "Instagram", ...), else the referring host without "www." in lower
/// case, else "direct". Never more than the host, so no path or query (which may carry
/// someone's private links) is ever stored; at most 100 characters.
pub fn referrer(referer: Option<&str>, agent: &Agent) -> String {
    // An in-app browser is the clearest sign, and those often send no Referer at all.
    if let Some(app) = agent.app {
        return app.into();
    }
    let Some(referer) = referer.map(str::trim).filter(|r| !r.is_empty()) else {
        return "direct".into();
    };
    let source = android_app(referer).or_else(|| web_host(referer).map(web_source));
    match source {
        Some(source) => truncate(&source, MAX_REFERRER).into(),
        None => "direct".into(),
    }
}

/// `android-app://<package>/...`: Chrome Custom Tabs say which Android app opened the link.
fn android_app(referer: &str) -> Option<String> {
    let rest = strip_prefix_ignore_case(referer, "android-app://")?;
    let package = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid = !package.is_empty()
        && package
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    if !valid {
        return None;
    }
    let package = package.to_ascii_lowercase();
    Some(
        ANDROID_APPS
            .iter()
            .find(|(p, _)| *p == package)
            .map_or(package, |(_, name)| (*name).into()),
    )
}

/// The lowercase host of an http(s) URL, without "www.", port or credentials; `None` for
/// anything else, including hosts with characters no real host name has.
fn web_host(referer: &str) -> Option<String> {
    let rest = strip_prefix_ignore_case(referer, "https://")
        .or_else(|| strip_prefix_ignore_case(referer, "http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = host_port.strip_prefix('[') {
        let literal = v6.split(']').next().unwrap_or("");
        let valid =
            !literal.is_empty() && literal.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        return valid.then(|| format!("[{}]", literal.to_ascii_lowercase()));
    }
    let host = host_port.split(':').next().unwrap_or("");
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && !host.starts_with('.')
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !valid {
        return None;
    }
    Some(match host.strip_prefix("www.") {
        Some(bare) if !bare.is_empty() => bare.into(),
        _ => host,
    })
}

fn web_source(host: String) -> String {
    let known = WEB_APPS.iter().find(|(domain, _)| {
        host == *domain
            || host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.ends_with('.'))
    });
    known.map_or(host, |(_, name)| (*name).into())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tracking::agent::parse;

    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";

    #[test]
    fn referrers() {
        let a = parse(ANDROID_PHONE);
        let r = |referer| referrer(referer, &a);
        assert_eq!(r(Some("android-app://com.whatsapp/")), "WhatsApp");
        assert_eq!(r(Some("android-app://org.telegram.messenger")), "Telegram");
        assert_eq!(r(Some("android-app://com.Slack/")), "Slack");
        assert_eq!(
            r(Some("android-app://com.example.reader/path")),
            "com.example.reader"
        );
        assert_eq!(r(Some("android-app://bad pkg/")), "direct");
        assert_eq!(r(Some("https://web.whatsapp.com/")), "WhatsApp");
        assert_eq!(r(Some("https://mail.google.com/mail/u/0/")), "Gmail");
        assert_eq!(r(Some("https://l.facebook.com/l.php?u=x")), "Facebook");
        assert_eq!(r(Some("https://t.co/abc")), "X");
        assert_eq!(r(Some("https://out.reddit.com/t3_x")), "Reddit");
        assert_eq!(
            r(Some("https://www.example.org/some/path?q=1")),
            "example.org"
        );
        assert_eq!(
            r(Some("HTTPS://user:pw@News.Example.ORG:8443/x#y")),
            "news.example.org"
        );
        assert_eq!(r(Some("https://[2001:DB8::1]:443/")), "[2001:db8::1]");
        assert_eq!(r(Some("https://notreddit.com/")), "notreddit.com");
        assert_eq!(r(None), "direct");
        assert_eq!(r(Some("")), "direct");
        assert_eq!(r(Some("not a url")), "direct");
        assert_eq!(r(Some("ftp://example.org/")), "direct");
        assert_eq!(r(Some("https:///path")), "direct");
        assert_eq!(r(Some("https://exa mple.org/")), "direct");
        let long = format!("https://{}.example.org/", "a".repeat(200));
        assert_eq!(r(Some(&long)).len(), MAX_REFERRER);
    }
}
