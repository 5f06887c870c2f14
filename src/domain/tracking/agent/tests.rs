//! Tests of `agent`.

use super::*;
use crate::domain::tracking::referrer::referrer;

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
