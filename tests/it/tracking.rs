//! The access log and statistics: every kind of event recorded once with the right fields,
//! unique visitors, stored addresses, trusted proxies, exports and who may read them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use crate::common::*;
use rocket::http::{Cookie, Header, Status};
use serde_json::Value;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like \
    Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
    Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
const FIREFOX_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0";
const WHATSAPP: &str = "WhatsApp/2.23.20.0 A";
const TELEGRAM: &str = "TelegramBot (like TwitterBot)";

/// A gallery of two images with downloads on; (id, key).
fn gallery(app: &TestApp) -> (String, String) {
    app.two_photo_gallery()
}

/// A visit from `agent` at `ip`, with an optional Referer and ticket; returns the status
/// and the ticket this response gave, if any.
fn visit(
    app: &TestApp,
    path: &str,
    agent: &str,
    ip: [u8; 4],
    referer: Option<&str>,
    ticket: Option<&(String, String)>,
) -> (Status, Option<(String, String)>) {
    let mut req = app
        .client
        .get(path.to_owned())
        .remote(SocketAddr::from((ip, 40000)))
        .header(Header::new("User-Agent", agent.to_owned()));
    if let Some(referer) = referer {
        req = req.header(Header::new("Referer", referer.to_owned()));
    }
    if let Some((name, value)) = ticket {
        req = req.cookie(Cookie::new(name.clone(), value.clone()));
    }
    let res = req.dispatch();
    let ticket = res
        .cookies()
        .iter()
        .find(|c| c.name().starts_with("t_"))
        .map(|c| (c.name().to_owned(), c.value().to_owned()));
    (res.status(), ticket)
}

fn owner_get(app: &TestApp, path: &str, key: Option<&str>) -> (Status, String) {
    let mut req = app.client.get(path.to_owned());
    if let Some(key) = key {
        req = req.header(Header::new("Authorization", format!("Bearer {key}")));
    }
    let res = req.dispatch();
    (res.status(), res.into_string().unwrap_or_default())
}

fn stats(app: &TestApp, id: &str, key: &str) -> Value {
    let (status, body) = owner_get(app, &format!("/api/galleries/{id}/stats"), Some(key));
    assert_eq!(status, Status::Ok, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn log(app: &TestApp, id: &str, key: &str, query: &str) -> Value {
    let (status, body) = owner_get(app, &format!("/api/galleries/{id}/log?{query}"), Some(key));
    assert_eq!(status, Status::Ok, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn count(list: &Value, name: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map_or(0, |c| c["count"].as_u64().unwrap())
}

fn beacon(app: &TestApp, id: &str, index: usize, ticket: Option<&(String, String)>) -> Status {
    let mut req = app
        .client
        .post(format!("/g/{id}/seen/{index}"))
        .remote(SocketAddr::from(([198, 51, 100, 7], 40000)))
        .header(Header::new("User-Agent", IPHONE));
    if let Some((name, value)) = ticket {
        req = req.cookie(Cookie::new(name.clone(), value.clone()));
    }
    req.dispatch().status()
}

mod export;

#[test]
fn each_event_is_recorded_once_with_its_fields() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let page = format!("/g/{id}");
    let iphone = [198, 51, 100, 7];

    let (status, ticket) = visit(
        &app,
        &page,
        IPHONE,
        iphone,
        Some("android-app://com.whatsapp/"),
        None,
    );
    assert_eq!(status, Status::Ok);
    let ticket = ticket.expect("a new viewer gets a ticket");
    let (status, again) = visit(&app, &page, IPHONE, iphone, None, Some(&ticket));
    assert_eq!(
        (status, again),
        (Status::Ok, None),
        "a reload keeps its ticket"
    );
    assert_eq!(
        visit(&app, &page, WHATSAPP, [31, 13, 64, 1], None, None).0,
        Status::Ok
    );
    // Two looks at image 1 and one at image 0: two views.
    for index in [1, 1, 0] {
        assert_eq!(beacon(&app, &id, index, Some(&ticket)), Status::NoContent);
    }
    let original = format!("/g/{id}/i/1/original");
    assert_eq!(
        visit(&app, &original, IPHONE, iphone, None, Some(&ticket)).0,
        Status::Ok
    );
    let zip = format!("/g/{id}/zip");
    assert_eq!(
        visit(&app, &zip, IPHONE, iphone, None, Some(&ticket)).0,
        Status::Ok
    );
    app.disable(&id, &key);
    assert_eq!(
        visit(&app, &page, EDGE, [192, 0, 2, 1], None, None).0,
        Status::Forbidden
    );

    let records = log(&app, &id, &key, "format=json")["records"].clone();
    let records = records.as_array().unwrap();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "denied", "zip", "download", "view", "view", "preview", "reload", "open"
        ],
        "newest first, one record per event"
    );
    let open = &records[7];
    assert_eq!(open["device"], "phone");
    assert_eq!(open["os"], "iOS 17");
    assert_eq!(open["browser"], "Mobile Safari 17");
    assert_eq!(open["referrer"], "WhatsApp");
    assert_eq!(open["ip"], "198.51.100.0/24");
    assert_eq!(
        records[6]["visitor"], open["visitor"],
        "same visitor reloading"
    );
    assert_eq!(records[5]["detail"], "WhatsApp");
    assert_eq!(records[5]["device"], "bot");
    assert_eq!(
        (records[4]["image"].as_u64(), records[3]["image"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(records[2]["image"], 1);
    assert_eq!(records[0]["detail"], "disabled");
    assert_eq!(records[0]["browser"], "Edge 120");
    assert_eq!(records[0]["os"], "Windows 10");

    let stats = stats(&app, &id, &key);
    assert_eq!(stats["opens"], 1);
    assert_eq!(stats["unique_visitors"], 1);
    assert_eq!(stats["reloads"], 1);
    assert_eq!(stats["previews"], 1);
    assert_eq!(count(&stats["previews_by_bot"], "WhatsApp"), 1);
    assert_eq!(count(&stats["denied"], "disabled"), 1);
    assert_eq!(count(&stats["devices"], "phone"), 1);
    assert_eq!(count(&stats["referrers"], "WhatsApp"), 1);
    assert_eq!(stats["zip_downloads"], 1);
    let images = stats["images"].as_array().unwrap();
    assert_eq!(images[0]["index"], 1, "the most viewed first");
    assert_eq!(
        (images[0]["views"].as_u64(), images[0]["downloads"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (images[1]["views"].as_u64(), images[1]["downloads"].as_u64()),
        (Some(1), Some(0))
    );
    let hourly = stats["hourly"].as_array().unwrap();
    assert_eq!(hourly.len(), 48);
    assert_eq!(hourly.last().unwrap()["opens"], 1);
    assert_eq!(
        stats["daily"].as_array().unwrap().last().unwrap()["opens"],
        1
    );
}

#[test]
fn unique_visitors_devices_and_browsers_are_counted_across_opens() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let page = format!("/g/{id}");
    // The same phone twice (its ticket lost, e.g. a private tab): two opens, one visitor.
    for _ in 0..2 {
        assert_eq!(
            visit(&app, &page, ANDROID, [203, 0, 113, 5], None, None).0,
            Status::Ok
        );
    }
    let (_, mac) = visit(&app, &page, FIREFOX_MAC, [203, 0, 113, 6], None, None);
    visit(
        &app,
        &page,
        FIREFOX_MAC,
        [203, 0, 113, 6],
        None,
        mac.as_ref(),
    );
    assert_eq!(
        visit(&app, &page, TELEGRAM, [149, 154, 167, 1], None, None).0,
        Status::Ok
    );

    let stats = stats(&app, &id, &key);
    assert_eq!(stats["opens"], 3);
    assert_eq!(stats["unique_visitors"], 2);
    assert_eq!(stats["reloads"], 1);
    assert_eq!(count(&stats["previews_by_bot"], "Telegram"), 1);
    assert_eq!(count(&stats["devices"], "phone"), 2);
    assert_eq!(count(&stats["devices"], "desktop"), 1);
    assert_eq!(count(&stats["browsers"], "Chrome Mobile 120"), 2);
    assert_eq!(count(&stats["browsers"], "Firefox 121"), 1);
    assert_eq!(count(&stats["os"], "Android 14"), 2);
    assert_eq!(count(&stats["referrers"], "direct"), 3);
}

#[test]
fn addresses_are_kept_truncated_or_not_at_all_and_never_whole() {
    for (store_ip, expected) in [("truncated", Some("203.0.113.0/24")), ("off", None)] {
        let app = TestApp::untracked(|c| {
            c.store_ip = serde_json::from_value(Value::from(store_ip)).unwrap();
        });
        let (id, key) = gallery(&app);
        visit(
            &app,
            &format!("/g/{id}"),
            EDGE,
            [203, 0, 113, 77],
            None,
            None,
        );
        let records = log(&app, &id, &key, "format=json")["records"].clone();
        assert_eq!(records[0]["ip"].as_str(), expected, "store_ip = {store_ip}");
        let csv = owner_get(
            &app,
            &format!("/api/galleries/{id}/log?format=csv"),
            Some(&key),
        )
        .1;
        assert!(!csv.contains("203.0.113.77"));
        let TestApp { client, dir } = app;
        drop(client);
        let raw = std::fs::read(dir.path().join("maiimg.redb")).unwrap();
        let whole = b"203.0.113.77";
        assert!(
            !raw.windows(whole.len()).any(|w| w == whole),
            "the full address must never be stored"
        );
    }
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app);
    let res = app
        .client
        .get(format!("/g/{id}"))
        .remote(SocketAddr::from((
            [0x2001, 0xdb8, 0xabcd, 0x12, 0, 0, 0, 1],
            40000,
        )))
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    let records = log(&app, &id, &key, "format=json")["records"].clone();
    assert_eq!(records[0]["ip"], "2001:db8:abcd::/48");
}

#[test]
fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    for (trusted, expected) in [(true, "198.51.100.0/24"), (false, "127.0.0.0/24")] {
        let app = TestApp::untracked(|c| {
            if trusted {
                c.trusted_proxies = vec!["127.0.0.1".into()];
            }
        });
        let (id, key) = gallery(&app);
        let res = app
            .client
            .get(format!("/g/{id}"))
            .remote(SocketAddr::from(([127, 0, 0, 1], 40000)))
            .header(Header::new("X-Forwarded-For", "198.51.100.9"))
            .dispatch();
        assert_eq!(res.status(), Status::Ok);
        let records = log(&app, &id, &key, "format=json")["records"].clone();
        assert_eq!(records[0]["ip"], expected, "trusted proxy: {trusted}");
    }
}
