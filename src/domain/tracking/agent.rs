//! Who is asking: device class, OS and browser from the User-Agent, link-preview bots and
//! in-app browsers. (Where they came from is `referrer`.)
//!
//! OS and browser come from the uap-core dataset (`uap/regexes.yaml`, Apache-2.0, see
//! `uap/LICENSE`) run by the `ua-parser` crate; the preview-bot and in-app checks are plain
//! substring tables, because they run on every gallery request and the apps they name are
//! not in uap-core anyway.

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

/// At most `max` bytes of `s`, cut on a char boundary.
pub(super) fn truncate(s: &str, max: usize) -> &str {
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
mod tests;
