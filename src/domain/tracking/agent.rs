//! Who is asking: device class, OS and browser from the User-Agent, preview bots, and the
//! app or site a visitor came from.
//!
//! OS and browser come from the uap-core dataset (`src/domain/tracking/uap/regexes.yaml`, Apache-2.0,
//! see `src/domain/tracking/uap/LICENSE`) run by the `ua-parser` crate; the preview-bot, in-app and
//! referrer checks are plain substring tables, because they run on every gallery request
//! and the apps they name are not in uap-core anyway.

use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use lru::LruCache;

/// Device class of a visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    /// A phone, or any other small mobile device.
    Phone,
    /// A tablet or e-reader.
    Tablet,
    /// Everything else a person uses: desktops, laptops, TVs, consoles.
    Desktop,
    /// A crawler or a link-preview fetcher, not a person.
    Bot,
}

impl DeviceClass {
    /// Stable lowercase key, the same as the serde form, for storage and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Phone => "phone",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Desktop => "desktop",
            DeviceClass::Bot => "bot",
        }
    }

    /// Name to show the owner.
    pub fn label(self) -> &'static str {
        match self {
            DeviceClass::Phone => "Phone",
            DeviceClass::Tablet => "Tablet",
            DeviceClass::Desktop => "Desktop",
            DeviceClass::Bot => "Bot",
        }
    }
}

/// What a User-Agent string says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// Phone, tablet, desktop or bot.
    pub device: DeviceClass,
    /// OS family with major version, as uap-core names it: "iOS 17", "Android 14",
    /// "Windows 10" (Windows 11 sends the same token), "Mac OS X 10" (Safari and Chrome
    /// freeze macOS at 10_15_7), "Linux", "Ubuntu", or "Other".
    pub os: String,
    /// Browser family with major version, as uap-core names it: "Mobile Safari 17",
    /// "Chrome Mobile 120", "Edge 120", "Firefox 121", or "Other".
    pub browser: String,
    /// The link-preview bot, when it is one: see [`preview_bot`].
    pub bot: Option<&'static str>,
    /// The app whose in-app browser this is, when the UA says so ("Facebook", "Instagram",
    /// "Messenger", "LINE", "Snapchat", "TikTok", "LinkedIn", "X", ...).
    pub app: Option<&'static str>,
}

/// Only this much of a UA is parsed or kept: real ones are 100–300 bytes, and the cache
/// keys must not let a client pin megabytes of memory.
const MAX_UA: usize = 512;

/// Distinct UAs remembered; at most ~1 KiB each, so a few MiB at worst.
const CACHE_CAPACITY: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

/// The referrer shown in statistics is at most this long.
const MAX_REFERRER: usize = 100;

static REGEXES: &str = include_str!("uap/regexes.yaml");

/// Compiling uap-core's ~1200 regexes takes 0.15–0.25 s, so it waits for the first
/// parse instead of slowing every start-up (and every test that never looks at a UA).
static EXTRACTOR: LazyLock<ua_parser::Extractor<'static>> = LazyLock::new(|| {
    // The dataset is compiled in and covered by the tests, so failing here is a build bug.
    let regexes: ua_parser::Regexes<'static> = serde_yaml_ng::from_str(REGEXES)
        .expect("src/domain/tracking/uap/regexes.yaml is valid uap-core");
    ua_parser::Extractor::try_from(regexes).expect("uap-core regexes compile")
});

static CACHE: LazyLock<Mutex<LruCache<Box<str>, Arc<Agent>>>> =
    LazyLock::new(|| Mutex::new(LruCache::new(CACHE_CAPACITY)));

/// Parse a User-Agent, through a process-wide LRU cache: the same visitor opens many pages,
/// and a full uap parse costs ~0.1 ms.
pub fn parse(user_agent: &str) -> Arc<Agent> {
    let ua = truncate(user_agent.trim(), MAX_UA);
    if let Some(hit) = lock_cache().get(ua) {
        return Arc::clone(hit);
    }
    // Parse without the lock so a slow parse never blocks other requests; when two threads
    // race on the same UA, the first insert wins so callers still share one Arc.
    let agent = Arc::new(parse_uncached(ua));
    let mut cache = lock_cache();
    if let Some(hit) = cache.get(ua) {
        return Arc::clone(hit);
    }
    cache.put(ua.into(), Arc::clone(&agent));
    agent
}

fn lock_cache() -> std::sync::MutexGuard<'static, LruCache<Box<str>, Arc<Agent>>> {
    // A panic elsewhere while holding the lock leaves at worst a stale entry, never a wrong one.
    CACHE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parse_uncached(ua: &str) -> Agent {
    let bot = preview_bot(ua);
    let app = in_app(ua);
    if ua.is_empty() {
        return Agent {
            device: DeviceClass::Desktop,
            os: "Other".into(),
            browser: "Other".into(),
            bot,
            app,
        };
    }
    let extractor: &ua_parser::Extractor<'_> = &EXTRACTOR;
    let (browser, os, device) = extractor.extract(ua);
    let os_family = os.as_ref().map_or("Other", |o| &*o.os);
    let os_name = with_major(os_family, os.as_ref().and_then(|o| o.major.as_deref()));
    let browser_name = match &browser {
        Some(b) => with_major(&b.family, b.major),
        None => "Other".into(),
    };
    let device_family = device.as_ref().map_or("Other", |d| &*d.device);
    let model = device
        .as_ref()
        .and_then(|d| d.model.as_deref())
        .unwrap_or("");
    Agent {
        device: classify(ua, bot, os_family, device_family, model),
        os: os_name,
        browser: browser_name,
        bot,
        app,
    }
}

/// "Family 17" from a family and a major version; "Other" stays bare.
fn with_major(family: &str, major: Option<&str>) -> String {
    let family = family.trim();
    if family.is_empty() || family == "Other" {
        return "Other".into();
    }
    match major.map(str::trim).filter(|m| !m.is_empty()) {
        Some(major) => format!("{family} {major}"),
        None => family.into(),
    }
}

/// uap-core names devices but has no device class, so it is derived here from the device
/// family, the OS, and the tokens browsers use to say "mobile".
fn classify(ua: &str, bot: Option<&str>, os: &str, device: &str, model: &str) -> DeviceClass {
    if bot.is_some() || device == "Spider" {
        return DeviceClass::Bot;
    }
    // TVs and consoles have no class of their own; they count as the big screen they are.
    let big_screen = [
        "SMART-TV", "SmartTV", "HbbTV", "BRAVIA", "CrKey", "AppleTV", " TV ",
    ];
    if big_screen.iter().any(|t| ua.contains(t)) {
        return DeviceClass::Desktop;
    }
    let mobile = ua.contains("Mobi");
    let tablet_device = ["iPad", "Kindle", "Tablet", "Nexus 7", "Nexus 9", "Nexus 10"];
    let tablet_token = ["Tablet", "Silk/", "Kindle", "PlayBook"];
    if tablet_device
        .iter()
        .any(|t| device.contains(t) || model.contains(t))
        || tablet_token.iter().any(|t| ua.contains(t))
        || (os == "Android" && !mobile)
    {
        return DeviceClass::Tablet;
    }
    let phone_os = [
        "iOS",
        "Android",
        "Windows Phone",
        "BlackBerry OS",
        "KaiOS",
        "Symbian OS",
        "Firefox OS",
        "Sailfish",
        "HarmonyOS",
        "Ubuntu Touch",
    ];
    if device.starts_with("iPhone")
        || device.starts_with("iPod")
        || device.contains("Smartphone")
        || device.contains("Feature Phone")
        || phone_os.contains(&os)
        || mobile
    {
        return DeviceClass::Phone;
    }
    DeviceClass::Desktop
}

/// How a token is looked for in the lowercased UA.
#[derive(Clone, Copy)]
enum Match {
    Contains(&'static str),
    /// For apps whose fetcher starts with the app name, while the same name inside a
    /// browser UA could be that app's own in-app browser, i.e. a person.
    Prefix(&'static str),
}

/// Preview fetchers, first match wins: several impersonate others (Telegram says "like
/// TwitterBot", iMessage and LINE claim to be facebookexternalhit), so the more specific
/// comes first.
const PREVIEW_BOTS: &[(Match, &str)] = &[
    (Match::Contains("telegrambot"), "Telegram"),
    // Messages on macOS/iOS sends exactly this trio and nothing of its own.
    (
        Match::Contains("facebookexternalhit/1.1 facebot twitterbot/1.0"),
        "iMessage",
    ),
    (Match::Contains("line-poker"), "LINE"),
    (Match::Contains("whatsapp"), "WhatsApp"),
    (Match::Contains("slackbot"), "Slack"),
    (Match::Contains("slack-imgproxy"), "Slack"),
    (Match::Contains("discordbot"), "Discord"),
    (Match::Contains("facebookexternalhit"), "Facebook"),
    (Match::Contains("facebot"), "Facebook"),
    (Match::Contains("meta-externalagent"), "Facebook"),
    (Match::Contains("meta-externalfetcher"), "Facebook"),
    (Match::Contains("twitterbot"), "X"),
    (Match::Contains("linkedinbot"), "LinkedIn"),
    // Teams still sends the Skype preview token; consumer Skype closed in May 2025.
    (Match::Contains("skypeuripreview"), "Teams"),
    (Match::Contains("microsoftpreview"), "Teams"),
    (Match::Contains("skype"), "Skype"),
    // Applebot feeds Siri, Spotlight and Safari suggestions; Messages is matched above.
    (Match::Contains("applebot"), "Apple"),
    (Match::Contains("googlebot"), "Google"),
    (Match::Contains("google-inspectiontool"), "Google"),
    (Match::Contains("bingbot"), "Bing"),
    (Match::Contains("bingpreview"), "Bing"),
    (Match::Contains("redditbot"), "Reddit"),
    (Match::Contains("embedly"), "Embedly"),
    (Match::Contains("pinterestbot"), "Pinterest"),
    (Match::Contains("pinterest.com/bot"), "Pinterest"),
    (Match::Contains("mastodon"), "Mastodon"),
    (Match::Contains("pleroma"), "Pleroma"),
    (Match::Contains("misskey"), "Misskey"),
    (Match::Contains("bluesky"), "Bluesky"),
    (Match::Contains("iframely"), "Iframely"),
    (Match::Contains("vkshare"), "VK"),
    (Match::Contains("snap url preview"), "Snapchat"),
    (Match::Contains("kakaotalk-scrap"), "KakaoTalk"),
    (Match::Contains("xing-contenttabreceiver"), "XING"),
    (Match::Contains("tumblr"), "Tumblr"),
    (Match::Contains("mattermost"), "Mattermost"),
    (Match::Contains("zoombot"), "Zoom"),
    (Match::Prefix("viber/"), "Viber"),
];

/// Is this UA a link-preview fetcher, and which? Substring checks only, no regex: it is
/// asked on every gallery page request. (Signal has no entry: it fetches previews on the
/// phone with a "WhatsApp/2" UA, so it counts as WhatsApp.)
pub fn preview_bot(user_agent: &str) -> Option<&'static str> {
    let lower = truncate(user_agent.trim(), MAX_UA).to_ascii_lowercase();
    PREVIEW_BOTS.iter().find_map(|&(m, name)| {
        let hit = match m {
            Match::Contains(token) => lower.contains(token),
            Match::Prefix(token) => lower.starts_with(token),
        };
        hit.then_some(name)
    })
}

/// In-app browsers append their app's token to the system WebView UA; case matters, the
/// tokens are distinctive as written. More specific first (Messenger is also "FBAN/").
const IN_APP: &[(&str, &str)] = &[
    ("Instagram ", "Instagram"),
    ("Barcelona ", "Threads"),
    ("FBAN/Messenger", "Messenger"),
    ("FB_IAB/MESSENGER", "Messenger"),
    ("FBAN/", "Facebook"),
    ("FBAV/", "Facebook"),
    ("FB_IAB/", "Facebook"),
    ("FBIOS", "Facebook"),
    (" Line/", "LINE"),
    ("Snapchat/", "Snapchat"),
    ("musical_ly", "TikTok"),
    ("BytedanceWebview", "TikTok"),
    ("TikTok", "TikTok"),
    ("LinkedInApp", "LinkedIn"),
    ("Twitter for iPhone", "X"),
    ("TwitterAndroid", "X"),
    ("[Pinterest/", "Pinterest"),
    ("MicroMessenger/", "WeChat"),
    ("KAKAOTALK", "KakaoTalk"),
    ("GSA/", "Google"),
];

fn in_app(ua: &str) -> Option<&'static str> {
    IN_APP
        .iter()
        .find_map(|&(token, name)| ua.contains(token).then_some(name))
}

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

/// At most `max` bytes of `s`, cut on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Safari/537.36";
    const WINDOWS_EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
    const MAC_FIREFOX: &str =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0";
    const LINUX_FIREFOX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    const FACEBOOK_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21B101 [FBAN/FBIOS;FBAV/444.0.0.39.110;FBBV/546498335;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/de_DE;FBOP/5;FBRV/548316458]";
    const INSTAGRAM_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; SM-S911B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Instagram 312.0.0.32.112 Android (34/14; 480dpi; 1080x2340; samsung; SM-S911B; dm1q; qcom; de_DE; 548323757)";

    fn agent(
        device: DeviceClass,
        os: &str,
        browser: &str,
        bot: Option<&'static str>,
        app: Option<&'static str>,
    ) -> Agent {
        Agent {
            device,
            os: os.into(),
            browser: browser.into(),
            bot,
            app,
        }
    }

    #[test]
    fn iphone_safari() {
        assert_eq!(
            *parse(IPHONE),
            agent(DeviceClass::Phone, "iOS 17", "Mobile Safari 17", None, None)
        );
    }

    #[test]
    fn ipad_safari_is_a_tablet() {
        assert_eq!(
            *parse(IPAD),
            agent(
                DeviceClass::Tablet,
                "iOS 17",
                "Mobile Safari 17",
                None,
                None
            )
        );
    }

    #[test]
    fn android_chrome_phone() {
        assert_eq!(
            *parse(ANDROID_PHONE),
            agent(
                DeviceClass::Phone,
                "Android 14",
                "Chrome Mobile 120",
                None,
                None
            )
        );
    }

    #[test]
    fn android_without_mobile_is_a_tablet() {
        assert_eq!(
            *parse(ANDROID_TABLET),
            agent(DeviceClass::Tablet, "Android 13", "Chrome 120", None, None)
        );
    }

    #[test]
    fn windows_edge() {
        assert_eq!(
            *parse(WINDOWS_EDGE),
            agent(DeviceClass::Desktop, "Windows 10", "Edge 120", None, None)
        );
    }

    #[test]
    fn mac_firefox() {
        assert_eq!(
            *parse(MAC_FIREFOX),
            agent(
                DeviceClass::Desktop,
                "Mac OS X 14",
                "Firefox 121",
                None,
                None
            )
        );
    }

    #[test]
    fn linux_firefox() {
        assert_eq!(
            *parse(LINUX_FIREFOX),
            agent(DeviceClass::Desktop, "Linux", "Firefox 121", None, None)
        );
    }

    #[test]
    fn other_devices() {
        let cases = [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
                DeviceClass::Desktop,
                "Mac OS X 10",
                "Safari 17",
            ),
            (
                "Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
                DeviceClass::Tablet,
                "Android 14",
                "Firefox Mobile 121",
            ),
            (
                "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 like Chrome/120.0.6099.144 Safari/537.36",
                DeviceClass::Tablet,
                "Android 9",
                "Amazon Silk 120",
            ),
            (
                "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
                DeviceClass::Desktop,
                "Tizen 6",
                "Samsung Internet 4",
            ),
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
                DeviceClass::Bot,
                "Other",
                "GPTBot 1",
            ),
        ];
        for (ua, device, os, browser) in cases {
            assert_eq!(*parse(ua), agent(device, os, browser, None, None), "{ua}");
        }
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(
            *parse(""),
            agent(DeviceClass::Desktop, "Other", "Other", None, None)
        );
        assert_eq!(
            *parse("   "),
            agent(DeviceClass::Desktop, "Other", "Other", None, None)
        );
        let garbage = parse("x\u{e9}\u{1F600}");
        assert_eq!(garbage.device, DeviceClass::Desktop);
        assert_eq!(garbage.bot, None);
    }

    #[test]
    fn preview_bots() {
        let cases = [
            ("WhatsApp/2.23.20.0 A", "WhatsApp"),
            ("WhatsApp/2.23.20.0 i", "WhatsApp"),
            ("TelegramBot (like TwitterBot)", "Telegram"),
            (
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                "Slack",
            ),
            ("Slack-ImgProxy (+https://api.slack.com/robots)", "Slack"),
            (
                "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
                "Discord",
            ),
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                "Facebook",
            ),
            (
                "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
                "Facebook",
            ),
            ("Twitterbot/1.0", "X"),
            (
                "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
                "LinkedIn",
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
                "Teams",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview",
                "Teams",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
                "iMessage",
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Google",
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                "Bing",
            ),
            (
                "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
                "Bluesky",
            ),
            (
                "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
                "Mastodon",
            ),
            (
                "Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots)",
                "Snapchat",
            ),
            ("Viber/20.9.0.8 CFNetwork/1410.0.3 Darwin/22.6.0", "Viber"),
        ];
        for (ua, name) in cases {
            assert_eq!(preview_bot(ua), Some(name), "{ua}");
            let parsed = parse(ua);
            assert_eq!(parsed.device, DeviceClass::Bot, "{ua}");
            assert_eq!(parsed.bot, Some(name), "{ua}");
        }
        for ua in [IPHONE, IPAD, ANDROID_PHONE, WINDOWS_EDGE, FACEBOOK_IOS, ""] {
            assert_eq!(preview_bot(ua), None, "{ua}");
        }
    }

    #[test]
    fn whatsapp_preview_fields() {
        assert_eq!(
            *parse("WhatsApp/2.23.20.0 A"),
            agent(
                DeviceClass::Bot,
                "Other",
                "WhatsApp 2",
                Some("WhatsApp"),
                None
            )
        );
    }

    #[test]
    fn in_app_browsers() {
        let fb = parse(FACEBOOK_IOS);
        assert_eq!(
            *fb,
            agent(
                DeviceClass::Phone,
                "iOS 17",
                "Facebook 444",
                None,
                Some("Facebook")
            )
        );
        assert_eq!(referrer(None, &fb), "Facebook");

        let ig = parse(INSTAGRAM_ANDROID);
        assert_eq!(
            *ig,
            agent(
                DeviceClass::Phone,
                "Android 14",
                "Instagram 312",
                None,
                Some("Instagram")
            )
        );
        assert_eq!(
            referrer(Some("https://l.instagram.com/?u=x"), &ig),
            "Instagram"
        );
    }

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

    #[test]
    fn cache_shares_one_arc() {
        let first = parse(LINUX_FIREFOX);
        let second = parse(LINUX_FIREFOX);
        assert!(Arc::ptr_eq(&first, &second));
        // Cached parses are a hash lookup; just make sure many are fine.
        for _ in 0..10_000 {
            assert_eq!(parse(LINUX_FIREFOX).device, DeviceClass::Desktop);
        }
    }

    #[test]
    fn long_ua_is_cut_on_a_char_boundary() {
        let long = format!("{IPHONE}{}", "\u{e9}".repeat(1000));
        let a = parse(&long);
        assert_eq!(a.device, DeviceClass::Phone);
        assert!(Arc::ptr_eq(&a, &parse(truncate(&long, MAX_UA))));
        assert!(truncate(&long, MAX_UA).len() <= MAX_UA);
    }

    #[test]
    fn device_class_names() {
        for (d, s, l) in [
            (DeviceClass::Phone, "phone", "Phone"),
            (DeviceClass::Tablet, "tablet", "Tablet"),
            (DeviceClass::Desktop, "desktop", "Desktop"),
            (DeviceClass::Bot, "bot", "Bot"),
        ] {
            assert_eq!(d.as_str(), s);
            assert_eq!(d.label(), l);
            assert_eq!(serde_json::to_string(&d).ok(), Some(format!("\"{s}\"")));
        }
    }
}
