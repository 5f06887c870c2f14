//! Floods: how much one network can make the access log grow (refusals, reloads and
//! downloads once per network and hour, opens one by one up to a budget and then as one
//! aggregate record), trusted proxies, and the disk reserve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::common::*;
use maiimg::clock::Clock;
use maiimg::config::RawConfig;
use maiimg::disk::FreeSpace;
use maiimg::domain::tracking::OPENS_LOGGED_PER_HOUR;
use rocket::http::{Cookie, Header, Status};
use serde_json::Value;
use time::OffsetDateTime;

/// A manual clock a minute into an hour, so no test crosses an hour by accident.
fn clock() -> Clock {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let hour = now - now.rem_euclid(3600) + 60;
    Clock::manual(OffsetDateTime::from_unix_timestamp(hour).unwrap())
}

/// A client that keeps no cookies (every request is a new viewer) on `clock`.
fn app_on(clock: &Clock, free: FreeSpace, tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
    let start = maiimg::Start {
        clock: clock.clone(),
        free_space: free,
        ..maiimg::Start::default()
    };
    TestApp::started(false, start, tweak)
}

/// A gallery of two images with downloads on; (id, key).
fn gallery(app: &TestApp) -> (String, String) {
    app.two_photo_gallery()
}

/// GET `path` from `ip` (with a forwarded address and a ticket, if given) as `agent`;
/// the status and the ticket it handed out.
fn get(
    app: &TestApp,
    path: &str,
    ip: IpAddr,
    forwarded: Option<&str>,
    agent: &str,
    ticket: Option<&Cookie<'static>>,
) -> (Status, Option<Cookie<'static>>) {
    let mut req = app
        .client
        .get(path.to_owned())
        .remote(SocketAddr::new(ip, 40000))
        .header(Header::new("User-Agent", agent.to_owned()));
    if let Some(forwarded) = forwarded {
        req = req.header(Header::new("X-Forwarded-For", forwarded.to_owned()));
    }
    if let Some(ticket) = ticket {
        req = req.cookie(ticket.clone());
    }
    let res = req.dispatch();
    let ticket = res
        .cookies()
        .iter()
        .find(|c| c.name().starts_with("t_"))
        .map(|c| Cookie::new(c.name().to_owned(), c.value().to_owned()));
    (res.status(), ticket)
}

fn owner(app: &TestApp, id: &str, key: &str, what: &str) -> Value {
    let res = app
        .client
        .get(format!("/api/galleries/{id}/{what}"))
        .header(Header::new("Authorization", format!("Bearer {key}")))
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    json_of(res)
}

/// Every log record, newest first.
fn records(app: &TestApp, id: &str, key: &str) -> Vec<Value> {
    let log = owner(app, id, key, "log?format=json&limit=1000");
    log["records"].as_array().unwrap().clone()
}

/// How many records are of `event`.
fn of(records: &[Value], event: &str) -> usize {
    records.iter().filter(|r| r["event"] == event).count()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn agent(i: usize) -> String {
    format!("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/{i}.0")
}

#[test]
fn a_flood_from_one_network_adds_one_record_per_kind_and_hour_and_counts_every_one() {
    let clock = clock();
    let app = app_on(&clock, FreeSpace::filesystem(), |_| {});
    let (id, key) = gallery(&app);
    let page = format!("/g/{id}");
    let viewer = ip("203.0.113.5");
    let (status, ticket) = get(&app, &page, viewer, None, "first", None);
    assert_eq!(status, Status::Ok);
    let ticket = ticket.unwrap();
    for i in 0..40 {
        let with = Some(&ticket);
        assert_eq!(
            get(&app, &page, viewer, None, &agent(i), with).0,
            Status::Ok
        );
        let original = format!("{page}/i/0/original");
        assert_eq!(
            get(&app, &original, viewer, None, &agent(i), with).0,
            Status::Ok
        );
    }
    app.disable(&id, &key);
    // Rotating the User-Agent, and addresses within one IPv6 /64, change nothing.
    let v6 = |i: usize| ip(&format!("2001:db8:1:2::{:x}", i + 1));
    for i in 0..300 {
        let status = get(&app, &page, viewer, None, &agent(i), None).0;
        assert_eq!(status, Status::Forbidden);
        assert_eq!(
            get(&app, &page, v6(i), None, &agent(i), None).0,
            Status::Forbidden
        );
    }
    let log = records(&app, &id, &key);
    assert_eq!(
        (of(&log, "open"), of(&log, "reload"), of(&log, "download")),
        (1, 1, 1)
    );
    assert_eq!(of(&log, "denied"), 2, "one per network and hour: {log:?}");
    // The counters still count every one.
    let stats = owner(&app, &id, &key, "stats");
    assert_eq!(stats["reloads"], 40);
    assert_eq!(stats["denied"][0]["count"], 600, "{}", stats["denied"]);
    assert_eq!(stats["images"][0]["downloads"], 40, "{}", stats["images"]);

    // A repeat that adds no record still moves the version the live statistics wait on.
    let version = stats["version"].as_u64().unwrap();
    get(&app, &page, viewer, None, "one more", None);
    let stats = owner(&app, &id, &key, "stats");
    assert_ne!(stats["version"].as_u64().unwrap(), version);

    // The next hour logs again, once.
    clock.advance(Duration::from_secs(3600));
    for i in 0..10 {
        get(&app, &page, viewer, None, &agent(i), None);
    }
    assert_eq!(of(&records(&app, &id, &key), "denied"), 3);
}

#[test]
fn lightbox_views_from_one_network_keep_a_bounded_number_of_viewers_apart() {
    let clock = clock();
    let app = app_on(&clock, FreeSpace::filesystem(), |_| {});
    let (id, key) = gallery(&app);
    let viewer = ip("203.0.113.5");
    let ticket = get(&app, &format!("/g/{id}"), viewer, None, "first", None).1;
    let ticket = ticket.unwrap();
    let budget = usize::try_from(OPENS_LOGGED_PER_HOUR).unwrap();
    for i in 0..budget + 100 {
        let res = app
            .client
            .post(format!("/g/{id}/seen/0"))
            .remote(SocketAddr::new(viewer, 40000))
            .header(Header::new("User-Agent", agent(i)))
            .cookie(ticket.clone())
            .dispatch();
        assert_eq!(res.status(), Status::NoContent);
    }
    assert_eq!(of(&records(&app, &id, &key), "view"), 1);
    let stats = owner(&app, &id, &key, "stats");
    assert_eq!(
        stats["images"][0]["views"], OPENS_LOGGED_PER_HOUR,
        "{}",
        stats["images"]
    );
}

#[test]
fn hundreds_of_viewers_behind_one_address_are_logged_then_counted_in_one_record() {
    const PAST: usize = 25;
    // A venue of 200 behind one address is logged one by one.
    const { assert!(OPENS_LOGGED_PER_HOUR >= 200) };
    let budget = usize::try_from(OPENS_LOGGED_PER_HOUR).unwrap();
    let clock = clock();
    let app = app_on(&clock, FreeSpace::filesystem(), |_| {});
    let (id, key) = gallery(&app);
    let page = format!("/g/{id}");
    let venue = ip("198.51.100.20");
    for i in 0..budget + PAST {
        assert_eq!(get(&app, &page, venue, None, &agent(i), None).0, Status::Ok);
    }
    // Another network in the same hour is its own.
    get(&app, &page, ip("192.0.2.1"), None, "elsewhere", None);
    let log = records(&app, &id, &key);
    assert_eq!(
        of(&log, "open"),
        budget + 1,
        "each of the first ones is logged"
    );
    let more: Vec<&Value> = log.iter().filter(|r| r["event"] == "more_opens").collect();
    assert_eq!(more.len(), 1, "one aggregate record");
    assert_eq!(more[0]["detail"], PAST.to_string());
    assert_eq!(more[0]["ip"], "198.51.100.0/24");
    // Counted exactly, in the total and in the hour's series.
    let stats = owner(&app, &id, &key, "stats");
    let opens = u64::try_from(budget + PAST + 1).unwrap();
    assert_eq!(stats["opens"], opens);
    let hourly = stats["hourly"].as_array().unwrap();
    assert_eq!(hourly.last().unwrap()["opens"], opens);
}

#[test]
fn a_trusted_proxys_clients_are_bounded_each_and_the_proxy_itself_is_exempt() {
    let clock = clock();
    let app = app_on(&clock, FreeSpace::filesystem(), |c| {
        c.trusted_proxies = vec!["10.0.0.1".into()];
    });
    let (id, key) = gallery(&app);
    app.disable(&id, &key);
    let page = format!("/g/{id}");
    let proxy = ip("10.0.0.1");
    for i in 0..30 {
        let a = get(&app, &page, proxy, Some("198.51.100.9"), &agent(i), None);
        let b = get(&app, &page, proxy, Some("198.51.100.10"), &agent(i), None);
        let bare = get(&app, &page, proxy, None, &agent(i), None);
        assert!([a.0, b.0, bare.0].iter().all(|s| *s == Status::Forbidden));
    }
    let log = records(&app, &id, &key);
    let from = |net: &str| log.iter().filter(|r| r["ip"] == net).count();
    assert_eq!(from("198.51.100.0/24"), 2, "one per forwarded client");
    assert_eq!(
        from("10.0.0.0/24"),
        30,
        "the proxy's own requests are not capped"
    );
}

#[test]
fn below_the_disk_reserve_uploads_are_refused_and_opens_still_count() {
    const GIB: u64 = 1 << 30;
    let clock = clock();
    let free = FreeSpace::fixed(10 * GIB);
    let app = app_on(&clock, free.clone(), |c| c.min_free_disk_bytes = Some(GIB));
    let (id, key) = gallery(&app);
    let page = format!("/g/{id}");
    assert_eq!(
        get(&app, &page, ip("192.0.2.1"), None, "a", None).0,
        Status::Ok
    );

    free.set(GIB - 1);
    let form = || Form::new().file("a.jpg", &jpeg(32, 32, 3));
    let message = app.refuse(
        "/api/galleries",
        form(),
        Status::InsufficientStorage,
        "storage_full",
    );
    assert!(message.contains("disk"), "{message}");
    app.refuse(
        "/api/uploads",
        form(),
        Status::InsufficientStorage,
        "storage_full",
    );
    // Viewing and counting go on; nothing is logged.
    for i in 0..5 {
        let viewer = ip(&format!("192.0.2.{}", 10 + i));
        assert_eq!(get(&app, &page, viewer, None, "b", None).0, Status::Ok);
    }
    let stats = owner(&app, &id, &key, "stats");
    assert_eq!(stats["opens"], 6);
    assert_eq!(records(&app, &id, &key).len(), 1);

    free.set(2 * GIB);
    let res = app.post_form("/api/galleries", form());
    assert_eq!(res.status(), Status::Created);
}
