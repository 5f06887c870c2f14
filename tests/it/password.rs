//! Password-protected galleries: the form, right and wrong passwords, the rate limit, and
//! that only a slow salted hash is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use rocket::http::{ContentType, Header, Status};

fn protected(app: &TestApp) -> (String, String) {
    let form = Form::new()
        .text("password", "open sesame")
        .text("max_opens", "5")
        .file("a.jpg", &jpeg(64, 48, 4));
    let res = app.post_form("/api/galleries", form);
    assert_eq!(res.status(), Status::Created);
    let json = json_of(res);
    (
        field(&json, "id").to_owned(),
        field(&json, "manage_key").to_owned(),
    )
}

fn try_password(app: &TestApp, id: &str, password: &str) -> (Status, Option<String>, String) {
    let res = app
        .client
        .post(format!("/g/{id}/password"))
        .header(ContentType::Form)
        .body(format!("password={}", password.replace(' ', "+")))
        .dispatch();
    let status = res.status();
    let location = res.headers().get_one("Location").map(str::to_owned);
    (status, location, res.into_string().unwrap_or_default())
}

fn opens(app: &TestApp, id: &str, key: &str) -> u64 {
    let (_, json) = app.manage(false, id, Some(format!("Bearer {key}")));
    json["counters"]["opens"].as_u64().unwrap()
}

#[test]
fn the_right_password_admits_and_counts_once() {
    let app = TestApp::new();
    let (id, key) = protected(&app);
    let page = app.get(&format!("/g/{id}"));
    assert_eq!(page.status, Status::Unauthorized);
    assert!(page.text().contains("data-reason=\"password\""));
    assert!(page.has_id("password-form"));
    assert!(
        !page.text().contains("/i/0/"),
        "no image before the password"
    );
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Forbidden);

    let (status, _, body) = try_password(&app, &id, "open says me");
    assert_eq!(status, Status::Unauthorized);
    assert!(has_id(&body, "password-notice"));
    assert_eq!(opens(&app, &id, &key), 0);

    let (status, location, _) = try_password(&app, &id, "open sesame");
    assert_eq!(status, Status::SeeOther);
    assert_eq!(location.as_deref(), Some(format!("/g/{id}").as_str()));
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::Ok);
    assert_eq!(app.image(&id, 0, "display").status, Status::Ok);
    assert_eq!(
        opens(&app, &id, &key),
        1,
        "the password counts as the open, reloads do not"
    );

    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(json["settings"]["password"], true);
    assert!(!json.to_string().contains("sesame"));
}

#[test]
fn wrong_passwords_are_rate_limited_per_client() {
    let app = TestApp::new();
    let (id, _) = protected(&app);
    for _ in 0..5 {
        assert_eq!(try_password(&app, &id, "guess").0, Status::Unauthorized);
    }
    let res = app
        .client
        .post(format!("/g/{id}/password"))
        .header(ContentType::Form)
        .body("password=open+sesame")
        .dispatch();
    assert_eq!(
        res.status(),
        Status::TooManyRequests,
        "even the right one waits"
    );
    assert!(res.headers().get_one("Retry-After").is_some());
}

#[test]
fn the_password_is_stored_only_as_an_argon2_hash_and_can_be_removed() {
    let app = TestApp::new();
    let (id, key) = protected(&app);
    let patch = |body: &str| {
        app.client
            .patch(format!("/api/galleries/{id}"))
            .header(Header::new("Authorization", format!("Bearer {key}")))
            .header(ContentType::JSON)
            .body(body)
            .dispatch()
            .status()
    };
    assert_eq!(
        patch(r#"{"password": "abc"}"#),
        Status::BadRequest,
        "too short"
    );
    assert_eq!(patch(r#"{"password": null}"#), Status::Ok);
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::Ok);

    let TestApp { client, dir } = app;
    drop(client);
    let db = std::fs::read(dir.path().join("maiimg.redb")).unwrap();
    let needle = b"open sesame";
    assert!(
        !db.windows(needle.len()).any(|w| w == needle),
        "no plain password on disk"
    );
}

/// A wrong password from socket address 127.0.0.1 with `X-Forwarded-For: forwarded_for`.
fn guess_via_proxy(app: &TestApp, id: &str, forwarded_for: &str) -> Status {
    app.client
        .post(format!("/g/{id}/password"))
        .remote(std::net::SocketAddr::from(([127, 0, 0, 1], 41_000)))
        .header(Header::new("X-Forwarded-For", forwarded_for.to_owned()))
        .header(ContentType::Form)
        .body("password=guess")
        .dispatch()
        .status()
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = TestApp::with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]);
    let (id, _) = protected(&app);
    for _ in 0..5 {
        assert_eq!(
            guess_via_proxy(&app, &id, "198.51.100.7"),
            Status::Unauthorized
        );
    }
    assert_eq!(
        guess_via_proxy(&app, &id, "198.51.100.7"),
        Status::TooManyRequests
    );
    assert_eq!(
        guess_via_proxy(&app, &id, "198.51.100.8"),
        Status::Unauthorized,
        "another client behind the same proxy is not blocked"
    );
    assert_eq!(
        guess_via_proxy(&app, &id, "198.51.100.8, 198.51.100.7"),
        Status::TooManyRequests,
        "only the entry the proxy appended counts"
    );
}

#[test]
fn without_trusted_proxies_forwarded_for_is_ignored() {
    let app = TestApp::new();
    let (id, _) = protected(&app);
    for _ in 0..5 {
        assert_eq!(
            guess_via_proxy(&app, &id, "198.51.100.7"),
            Status::Unauthorized
        );
    }
    assert_eq!(
        guess_via_proxy(&app, &id, "198.51.100.8"),
        Status::TooManyRequests,
        "every client shares the socket address's attempts"
    );
}

/// Forty wrong passwords at once from one address, over real HTTP: each attempt is counted
/// before it is checked, so exactly the allowed five are checked and the rest get 429.
#[test]
fn simultaneous_wrong_passwords_are_checked_only_up_to_the_limit() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(cwd.path(), data.path(), free_port());
    let base = server.base.clone();
    let (id, _) = create_gallery(&base, &[("password", "open sesame")]);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(40));
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let barrier = std::sync::Arc::clone(&barrier);
            let url = format!("{base}/g/{id}/password");
            std::thread::spawn(move || {
                let client = stranger();
                barrier.wait();
                let res = client.post(&url).form(&[("password", "guess")]).send();
                res.expect("POST").status().as_u16()
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!((count(401), count(429)), (5, 35), "{statuses:?}");
}

/// The owner's `PATCH` (a JSON body) or `POST /api/galleries/<id>/<action>` (no body).
fn owner(app: &TestApp, id: &str, key: &str, action: &str, body: Option<&str>) -> Status {
    let auth = Header::new("Authorization", format!("Bearer {key}"));
    let req = match body {
        Some(body) => app
            .client
            .patch(format!("/api/galleries/{id}"))
            .header(ContentType::JSON)
            .body(body),
        None => app.client.post(format!("/api/galleries/{id}/{action}")),
    };
    req.header(auth).dispatch().status()
}

/// The page, an original and the ZIP, as this client (with its ticket, if any) gets them.
fn what_a_viewer_gets(app: &TestApp, id: &str) -> [Status; 3] {
    ["", "/i/0/original", "/zip"].map(|path| app.get(&format!("/g/{id}{path}")).status)
}

#[test]
fn a_new_password_locks_out_those_admitted_with_the_old_one() {
    let app = TestApp::new();
    let (id, key) = protected(&app);
    assert_eq!(try_password(&app, &id, "open sesame").0, Status::SeeOther);
    assert_eq!(what_a_viewer_gets(&app, &id), [Status::Ok; 3]);

    let change = r#"{"password": "a new secret"}"#;
    assert_eq!(owner(&app, &id, &key, "", Some(change)), Status::Ok);
    assert_eq!(
        what_a_viewer_gets(&app, &id),
        [Status::Unauthorized, Status::Forbidden, Status::Forbidden],
        "the old ticket opens nothing"
    );
    assert_eq!(try_password(&app, &id, "a new secret").0, Status::SeeOther);
    assert_eq!(what_a_viewer_gets(&app, &id), [Status::Ok; 3]);
    assert_eq!(opens(&app, &id, &key), 2);

    // Removing the password ends the tickets too: the next visit counts as a new open.
    assert_eq!(
        owner(&app, &id, &key, "", Some(r#"{"password": null}"#)),
        Status::Ok
    );
    assert_eq!(
        app.get(&format!("/g/{id}/i/0/original")).status,
        Status::Forbidden
    );
    assert_eq!(what_a_viewer_gets(&app, &id), [Status::Ok; 3]);
    assert_eq!(opens(&app, &id, &key), 3);
}

#[test]
fn disabling_and_enabling_again_keeps_tickets_and_counts_no_second_open() {
    let app = TestApp::new();
    let (id, key) = protected(&app);
    assert_eq!(try_password(&app, &id, "open sesame").0, Status::SeeOther);
    assert_eq!(owner(&app, &id, &key, "disable", None), Status::Ok);
    assert_eq!(
        what_a_viewer_gets(&app, &id),
        [Status::Forbidden; 3],
        "a disabled gallery refuses its ticket holders too"
    );
    assert_eq!(owner(&app, &id, &key, "enable", None), Status::Ok);
    assert_eq!(what_a_viewer_gets(&app, &id), [Status::Ok; 3]);
    assert_eq!(opens(&app, &id, &key), 1);
}
