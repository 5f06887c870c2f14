//! The instance admin at `/admin`: only with a token, only with a session, only with the
//! session's CSRF token; takedowns that viewers see at once; blob garbage collection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration as StdDuration;

use crate::common::*;
use maiimg::clock::Clock;
use rocket::http::{ContentType, Status};
use rocket::local::blocking::LocalResponse;
use time::OffsetDateTime;

const TOKEN: &str = "correct-horse-battery-staple-42";

fn admin_app() -> TestApp {
    TestApp::with(|c| c.admin_token = TOKEN.into())
}

/// POST a URL-encoded form; the status, `Location` and `Set-Cookie`.
fn post<'c>(app: &'c TestApp, path: &str, body: &str) -> LocalResponse<'c> {
    app.client
        .post(path.to_owned())
        .header(ContentType::Form)
        .body(body)
        .dispatch()
}

fn location(res: &LocalResponse<'_>) -> Option<String> {
    res.headers().get_one("Location").map(str::to_owned)
}

/// Sign in; the CSRF token the dashboard's forms carry.
fn sign_in(app: &TestApp) -> String {
    let res = post(app, "/admin/login", &format!("token={TOKEN}"));
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(location(&res).as_deref(), Some("/admin"));
    csrf_of(&dashboard(app, "/admin"))
}

fn dashboard(app: &TestApp, path: &str) -> String {
    let page = app.get(path);
    assert_eq!(page.status, Status::Ok, "{}", page.text());
    assert!(page.text().contains("data-page=\"admin\""));
    page.text()
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned()
}

/// The flash message of a dashboard page.
fn flash_of(html: &str) -> String {
    html.split("id=\"flash\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("")
        .to_owned()
}

fn gallery(app: &TestApp, seed: u8) -> String {
    let json = app.create(&[
        ("a.jpg", &jpeg(120, 90, seed)),
        ("b.png", &png_rgb(70 + u32::from(seed), 50)),
    ]);
    field(&json, "id").to_owned()
}

fn reason(app: &TestApp, id: &str) -> (Status, Option<String>) {
    let page = app.get(&format!("/g/{id}"));
    (page.status, page.reason())
}

/// Every rendition's digest of a gallery's images (as the viewer's ETags say).
fn digests(app: &TestApp, id: &str, images: usize) -> Vec<String> {
    (0..images)
        .flat_map(|i| ["original", "display", "thumb"].map(|r| app.etag(id, i, r)))
        .collect()
}

mod tools;

#[test]
fn there_is_no_admin_without_a_token() {
    let app = TestApp::new();
    for path in ["/admin", "/admin/login"] {
        assert_eq!(app.get(path).status, Status::NotFound, "{path}");
    }
    for path in ["/admin/login", "/admin/gc", "/admin/purge", "/admin/logout"] {
        let res = post(&app, path, "token=&csrf=x");
        assert_eq!(res.status(), Status::NotFound, "{path}");
    }
}

#[test]
fn the_admin_needs_the_token_and_a_session() {
    let app = admin_app();
    let id = gallery(&app, 1);

    // No session: the dashboard sends to the sign-in page, actions are refused.
    let res = app.client.get("/admin").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(location(&res).as_deref(), Some("/admin/login"));
    let login = app.get("/admin/login");
    assert_eq!(login.status, Status::Ok);
    assert!(login.text().contains("id=\"admin-login\""));
    let res = post(
        &app,
        &format!("/admin/galleries/{id}/disable"),
        "csrf=guess",
    );
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(reason(&app, &id), (Status::Ok, None), "nothing changed");

    // A wrong token gets no session.
    let res = post(&app, "/admin/login", "token=not-the-token-at-all");
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("Set-Cookie").is_none());
    let text = res.into_string().unwrap();
    assert!(text.contains("not right"), "{text}");
    assert_eq!(
        app.client.get("/admin").dispatch().status(),
        Status::SeeOther
    );

    // The right one does: an HttpOnly, SameSite=Strict cookie for /admin only.
    let res = post(&app, "/admin/login", &format!("token={TOKEN}"));
    assert_eq!(res.status(), Status::SeeOther);
    let cookie = res.headers().get_one("Set-Cookie").unwrap().to_owned();
    for attribute in [
        "maiimg_admin=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let page = dashboard(&app, "/admin");
    assert!(page.contains(&format!("data-gallery=\"{id}\"")), "{page}");

    // Signing out ends the session for good (it needs the CSRF token too).
    let csrf = csrf_of(&page);
    let res = post(&app, "/admin/logout", "csrf=wrong");
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(app.get("/admin").status, Status::Ok, "still signed in");
    let res = post(&app, "/admin/logout", &format!("csrf={csrf}"));
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        app.client.get("/admin").dispatch().status(),
        Status::SeeOther
    );
}

#[test]
fn the_cookie_is_secure_behind_https() {
    let app = TestApp::with(|c| {
        c.admin_token = TOKEN.into();
        c.public_url = "https://photos.example.org".into();
    });
    let res = post(&app, "/admin/login", &format!("token={TOKEN}"));
    assert_eq!(res.status(), Status::SeeOther);
    let cookie = res.headers().get_one("Set-Cookie").unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[test]
fn wrong_tokens_are_rate_limited_per_client() {
    let app = admin_app();
    for _ in 0..10 {
        assert_eq!(
            post(&app, "/admin/login", "token=guess").status(),
            Status::Unauthorized
        );
    }
    let res = post(&app, "/admin/login", &format!("token={TOKEN}"));
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait: u64 = res
        .headers()
        .get_one("Retry-After")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(wait > 0);
    // Another client is not held back.
    let res = app
        .client
        .post("/admin/login")
        .header(ContentType::Form)
        .remote(SocketAddr::from(([198, 51, 100, 9], 40_000)))
        .body(format!("token={TOKEN}"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
}

#[test]
fn actions_without_the_csrf_token_change_nothing() {
    let app = admin_app();
    let id = gallery(&app, 2);
    let csrf = sign_in(&app);
    let before = app.blob_count();
    for action in ["disable", "delete"] {
        for body in ["", "csrf=", "csrf=wrong-token", "confirm=yes"] {
            let body = if action == "delete" && !body.contains("confirm") {
                format!("{body}&confirm=yes")
            } else {
                body.to_owned()
            };
            let path = format!("/admin/galleries/{id}/{action}");
            let res = post(&app, &path, &body);
            assert_eq!(res.status(), Status::Forbidden, "{action} with {body:?}");
        }
    }
    // A token of another session is no good either.
    let other = admin_app();
    let foreign = sign_in(&other);
    assert_ne!(foreign, csrf);
    let res = post(
        &app,
        &format!("/admin/galleries/{id}/disable"),
        &format!("csrf={foreign}"),
    );
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(post(&app, "/admin/gc", "").status(), Status::Forbidden);

    assert_eq!(reason(&app, &id), (Status::Ok, None));
    assert_eq!(app.blob_count(), before);
}

#[test]
fn the_admin_takes_down_any_gallery_at_once() {
    let app = admin_app();
    let keep = gallery(&app, 3);
    let gone = gallery(&app, 4);
    let csrf = sign_in(&app);
    // A viewer already inside the gallery (holding a ticket).
    assert_eq!(app.image(&keep, 0, "thumb").status, Status::Ok);

    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/disable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        reason(&app, &keep),
        (Status::Forbidden, Some("disabled".into()))
    );
    assert_eq!(app.image(&keep, 0, "thumb").status, Status::Forbidden);
    let poster = app.get(&format!("/g/{keep}/poster"));
    assert_eq!(poster.status, Status::NotFound, "no poster for a takedown");
    let page = dashboard(&app, &format!("/admin?q={keep}"));
    assert!(flash_of(&page).contains("Disabled"), "{page}");
    assert!(page.contains("data-state=\"disabled\""));

    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/enable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        app.image(&keep, 0, "thumb").status,
        Status::Forbidden,
        "a takedown ends the tickets: lifting it does not let their holders back in"
    );
    assert_eq!(reason(&app, &keep), (Status::Ok, None));

    // Delete needs the confirmation.
    let kept_blobs: HashSet<String> = digests(&app, &keep, 2).into_iter().collect();
    let gone_blobs = digests(&app, &gone, 2);
    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/delete"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(reason(&app, &gone).0, Status::Ok, "not deleted unconfirmed");
    assert!(flash_of(&dashboard(&app, "/admin")).contains("Not deleted"));

    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/delete"),
        &format!("csrf={csrf}&confirm=yes"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(app.get(&format!("/g/{gone}")).status, Status::NotFound);
    assert_eq!(
        app.get(&format!("/g/{gone}/i/0/thumb")).status,
        Status::NotFound
    );
    for hex in &gone_blobs {
        assert!(!app.blob_path(hex).exists(), "{hex} of the deleted gallery");
    }
    for hex in &kept_blobs {
        assert!(app.blob_path(hex).exists(), "{hex} of the kept gallery");
    }
    assert_eq!(app.blob_count(), kept_blobs.len());
    let page = dashboard(&app, "/admin");
    assert!(flash_of(&page).contains("Deleted"), "{page}");
    assert!(!page.contains(&format!("data-gallery=\"{gone}\"")));
    // Unknown galleries and actions.
    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/disable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::NotFound);
    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/explode"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::NotFound);
}

#[test]
fn search_sort_and_pages() {
    let app = admin_app();
    let ids: Vec<String> = (0..53)
        .map(|i| {
            let json = app.create(&[("p.jpg", &jpeg(16 + u32::from(i), 16, i))]);
            field(&json, "id").to_owned()
        })
        .collect();
    let big = field(&app.create(&[("big.png", &png_rgba(400, 300))]), "id").to_owned();
    sign_in(&app);

    let rows = |page: &str| {
        page.split("data-gallery=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // 54 galleries: 50 on the first page, newest first.
    let first = dashboard(&app, "/admin");
    assert!(first.contains("data-matched=\"54\""));
    let listed = rows(&first);
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[0], big);
    assert!(first.contains("Page 1 of 2"));
    let second = rows(&dashboard(&app, "/admin?sort=newest&page=2"));
    assert_eq!(second.len(), 4);
    assert_eq!(second.last(), Some(&ids[0]));
    let oldest = rows(&dashboard(&app, "/admin?sort=oldest"));
    assert_eq!(oldest[0], ids[0]);

    // Largest first; most opened first.
    assert_eq!(rows(&dashboard(&app, "/admin?sort=size"))[0], big);
    app.get(&format!("/g/{}", ids[7]));
    assert_eq!(rows(&dashboard(&app, "/admin?sort=opens"))[0], ids[7]);

    // An exact id, a prefix, and nothing.
    assert_eq!(
        rows(&dashboard(&app, &format!("/admin?q={}", ids[9]))),
        [ids[9].clone()]
    );
    let prefix = &ids[9][..3];
    let found = rows(&dashboard(&app, &format!("/admin?q={prefix}")));
    assert!(found.contains(&ids[9]));
    assert!(found.iter().all(|id| id.starts_with(prefix)));
    let none = dashboard(&app, "/admin?q=zzzzzzzzzzzzzzzz");
    assert!(rows(&none).is_empty() && none.contains("No gallery matches"));
}

#[test]
fn a_takedown_sticks_until_the_admin_lifts_it() {
    let app = admin_app();
    let created = app.create(&[("a.jpg", &jpeg(64, 48, 9))]);
    let (id, key) = (
        field(&created, "id").to_owned(),
        field(&created, "manage_key").to_owned(),
    );
    let csrf = sign_in(&app);
    let owner = |action: &str| {
        app.client
            .post(format!("/api/galleries/{id}/{action}"))
            .header(rocket::http::Header::new(
                "Authorization",
                format!("Bearer {key}"),
            ))
            .dispatch()
    };

    post(
        &app,
        &format!("/admin/galleries/{id}/disable"),
        &format!("csrf={csrf}"),
    );
    let res = owner("enable");
    assert_eq!(res.status(), Status::Forbidden);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "taken_down");
    assert!(message.contains("administrator"), "{message}");
    assert_eq!(
        reason(&app, &id),
        (Status::Forbidden, Some("disabled".into()))
    );
    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(json["taken_down"], true);

    post(
        &app,
        &format!("/admin/galleries/{id}/enable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(reason(&app, &id), (Status::Ok, None));
    assert_eq!(owner("disable").status(), Status::Ok);
    assert_eq!(
        owner("enable").status(),
        Status::Ok,
        "the owner is in charge again"
    );
}

#[test]
fn wrong_tokens_slow_a_client_down_but_never_lock_the_admin_out_for_long() {
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = TestApp::on_clock(&clock, |c| c.admin_token = TOKEN.into());
    // Signed in before a stranger behind the same address starts guessing.
    let csrf = sign_in(&app);
    let mut waited = 0;
    for _ in 0..30 {
        let res = post(&app, "/admin/login", "token=guess");
        if res.status() == Status::TooManyRequests {
            let wait: u64 = res
                .headers()
                .get_one("Retry-After")
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait <= 300, "waits are capped: {wait}");
            waited += wait;
            clock.advance(StdDuration::from_secs(wait));
        }
    }
    // The session still works while the guesser waits.
    let res = post(&app, "/admin/gc", &format!("csrf={csrf}"));
    assert_eq!(res.status(), Status::SeeOther);
    // After the current wait, the right token signs in (an hourly lockout would not).
    let res = post(&app, "/admin/login", &format!("token={TOKEN}"));
    let wait: u64 = res
        .headers()
        .get_one("Retry-After")
        .map_or(0, |v| v.parse().unwrap());
    assert!(wait <= 300);
    clock.advance(StdDuration::from_secs(wait));
    let res = post(&app, "/admin/login", &format!("token={TOKEN}"));
    assert_eq!(res.status(), Status::SeeOther, "after {waited} s of waits");
}
