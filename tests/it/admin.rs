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

mod dashboard;
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
    assert!(login.has_id("admin-login"));
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
