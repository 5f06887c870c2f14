//! Access settings through the API and what viewers get: each refusal has its page,
//! status and `data-reason`; owner actions need the manage key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// A gallery with one image; returns (id, key).
fn gallery(app: &TestApp, form: Form) -> (String, String) {
    app.gallery(form.file("a.jpg", &jpeg(64, 48, 1)))
}

fn patch(app: &TestApp, id: &str, key: Option<&str>, body: Value) -> (Status, Value) {
    let mut req = app
        .client
        .patch(format!("/api/galleries/{id}"))
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(key) = key {
        req = req.header(Header::new("Authorization", format!("Bearer {key}")));
    }
    let res = req.dispatch();
    (res.status(), json_of(res))
}

fn action(app: &TestApp, id: &str, key: &str, what: &str) -> (Status, Value) {
    let res = app
        .client
        .post(format!("/api/galleries/{id}/{what}"))
        .header(Header::new("Authorization", format!("Bearer {key}")))
        .dispatch();
    (res.status(), json_of(res))
}

/// The viewer page's status and `data-reason` (None when the gallery shows).
fn view(app: &TestApp, id: &str) -> (Status, Option<String>, String) {
    let page = app.get(&format!("/g/{id}"));
    (page.status, page.reason(), page.text())
}

mod form;
mod poster;

#[test]
fn settings_given_at_upload_are_stored_and_reported() {
    let app = TestApp::new();
    let (id, key) = gallery(
        &app,
        Form::new()
            .text("expires_in", "3600")
            .text("daily_from", "00:00")
            .text("daily_until", "23:59")
            .text("days", "mon,tue,wed,thu,fri,sat,sun")
            .text("timezone", "Europe/Berlin"),
    );
    let (status, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(status, Status::Ok);
    let settings = &json["settings"];
    assert_eq!(settings["timezone"], "Europe/Berlin");
    assert_eq!(settings["daily_from"], "00:00");
    assert_eq!(settings["days"], "mon,tue,wed,thu,fri,sat,sun");
    assert_eq!(settings["enabled"], true);
    let expires =
        OffsetDateTime::parse(settings["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let left = expires - OffsetDateTime::now_utc();
    assert!(
        left.whole_minutes() > 55 && left.whole_minutes() <= 60,
        "{left}"
    );
    assert!(["active", "outside-hours"].contains(&json["state"].as_str().unwrap()));
}

#[test]
fn invalid_settings_are_refused_by_name_and_store_nothing() {
    let app = TestApp::new();
    for (name, value) in [
        ("expires_at", "next week"),
        ("daily_from", "9am"),
        ("timezone", "Atlantis/Capital"),
        ("colour", "blue"),
    ] {
        let form = Form::new()
            .text(name, value)
            .file("a.jpg", &jpeg(32, 32, 2));
        let res = app.post_form("/api/galleries", form);
        assert_eq!(res.status(), Status::BadRequest, "{name}");
        let (code, message) = error_of(&json_of(res));
        assert!(message.contains(name), "{message}");
        assert!(["invalid_setting", "bad_request"].contains(&code.as_str()));
    }
    assert_eq!(app.blob_count(), 0, "a refused request stores no image");
    assert_eq!(app.close_and_count_galleries(), 0);
}

#[test]
fn owner_actions_need_the_key_and_change_nothing_without_it() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, Form::new());
    let (status, json) = patch(&app, &id, None, json!({"expires_in": 60}));
    assert_eq!(
        (status, error_of(&json).0.as_str()),
        (Status::Unauthorized, "unauthorized")
    );
    let (status, _) = patch(&app, &id, Some("not-the-key"), json!({"expires_in": 60}));
    assert_eq!(status, Status::Unauthorized);
    let (status, _) = action(&app, &id, "wrong", "disable");
    assert_eq!(status, Status::Unauthorized);
    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(json["settings"]["expires_at"], Value::Null);
    assert_eq!(json["state"], "active");
    assert_eq!(view(&app, &id).0, Status::Ok);

    let (status, json) = patch(
        &app,
        &id,
        Some(&key),
        json!({"daily_from": "25:61", "daily_until": "10:00"}),
    );
    assert_eq!(status, Status::BadRequest);
    assert!(error_of(&json).1.contains("daily_from"));
}

#[test]
fn disable_stops_the_page_and_images_at_once_and_enable_restores_them() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, Form::new());
    assert_eq!(app.image(&id, 0, "display").status, Status::Ok);

    let (status, json) = action(&app, &id, &key, "disable");
    assert_eq!(
        (status, json["state"].as_str()),
        (Status::Ok, Some("disabled"))
    );
    let (status, reason, text) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("disabled"))
    );
    assert!(text.contains("switched off"));
    for rendition in ["thumb", "display", "original"] {
        assert_eq!(
            app.image(&id, 0, rendition).status,
            Status::Forbidden,
            "{rendition}"
        );
    }

    let (status, json) = action(&app, &id, &key, "enable");
    assert_eq!(
        (status, json["state"].as_str()),
        (Status::Ok, Some("active"))
    );
    assert_eq!(view(&app, &id).0, Status::Ok);
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Ok);
}

#[test]
fn each_reason_has_its_page_and_status() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, Form::new());
    let now = OffsetDateTime::now_utc();
    let hour = time::Duration::hours(1);
    // An admitted viewer (holding a ticket) loses the images too once it expires.
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Ok);

    patch(
        &app,
        &id,
        Some(&key),
        json!({"expires_at": rfc3339(now - hour)}),
    );
    let (status, reason, _) = view(&app, &id);
    assert_eq!((status, reason.as_deref()), (Status::Gone, Some("expired")));
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Gone);

    patch(
        &app,
        &id,
        Some(&key),
        json!({"expires_at": null, "available_from": rfc3339(now + hour)}),
    );
    let (status, reason, text) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("scheduled"))
    );
    assert!(has_id(&text, "opens-at"), "the page says when it opens");

    patch(
        &app,
        &id,
        Some(&key),
        json!({"available_from": rfc3339(now - hour * 2), "available_until": rfc3339(now - hour)}),
    );
    let (status, reason, _) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("ended"))
    );

    // A one-minute window twelve hours from now is surely closed now.
    let local: OffsetDateTime = now + hour * 12;
    let from = format!("{:02}:{:02}", local.hour(), local.minute());
    let until_t = local + time::Duration::minutes(1);
    let until = format!("{:02}:{:02}", until_t.hour(), until_t.minute());
    let (status, json) = patch(
        &app,
        &id,
        Some(&key),
        json!({"available_from": null, "available_until": null,
               "daily_from": from, "daily_until": until, "timezone": "UTC"}),
    );
    assert_eq!(status, Status::Ok);
    assert_eq!(json["state"], "outside-hours");
    assert!(json["opens_at"].is_string());
    let (status, reason, text) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("hours"))
    );
    assert!(text.contains("opens on"));

    let (status, _) = patch(
        &app,
        &id,
        Some(&key),
        json!({"daily_from": null, "daily_until": null}),
    );
    assert_eq!(status, Status::Ok);
    assert_eq!(view(&app, &id).0, Status::Ok);
}

#[test]
fn instance_expiry_policy_applies_to_uploads() {
    let app = TestApp::with(|c| {
        c.default_expiry = "7d".into();
        c.max_expiry = "30d".into();
    });
    let (id, key) = gallery(&app, Form::new());
    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    let expires =
        OffsetDateTime::parse(json["settings"]["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!((expires - OffsetDateTime::now_utc()).whole_days(), 6);

    let form = Form::new()
        .text("expires_in", "never")
        .file("a.jpg", &jpeg(32, 32, 3));
    let message = app.refuse(
        "/api/galleries",
        form,
        Status::BadRequest,
        "invalid_setting",
    );
    assert!(
        message.contains("expires_in") && message.contains("30days"),
        "{message}"
    );
}

#[test]
fn far_future_expiries_are_refused_by_name_and_leave_no_blob() {
    let app = TestApp::new();
    for seconds in ["1000000000000", "9223372036854775807"] {
        // Before the file, and after it (when its blobs are already written).
        for setting_first in [true, false] {
            let photo = jpeg(32, 32, 3);
            let form = match setting_first {
                true => Form::new()
                    .text("expires_in", seconds)
                    .file("a.jpg", &photo),
                false => Form::new()
                    .file("a.jpg", &photo)
                    .text("expires_in", seconds),
            };
            let message = app.refuse(
                "/api/galleries",
                form,
                Status::BadRequest,
                "invalid_setting",
            );
            assert!(message.contains("expires_in"), "{message}");
            assert_eq!(
                app.blob_count(),
                0,
                "{seconds}: a refused gallery left blobs"
            );
        }
    }

    // Staged upload plus a bad setting: refused, and the upload can still be used.
    let res = app.post_form("/api/uploads", Form::new().file("b.jpg", &jpeg(32, 32, 4)));
    let staged = field(&json_of(res), "upload_id").to_owned();
    let create = |settings: Value| {
        let body = json!({"uploads": [staged], "settings": settings});
        let req = app.client.post("/api/galleries").header(ContentType::JSON);
        req.body(body.to_string()).dispatch()
    };
    let res = create(json!({"expires_in": 1_000_000_000_000_i64}));
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(error_of(&json_of(res)).0, "invalid_setting");
    assert_eq!(create(json!({"expires_in": 60})).status(), Status::Created);

    // Changing an existing gallery's expiry.
    let (id, key) = gallery(&app, Form::new());
    let (status, json) = patch(
        &app,
        &id,
        Some(&key),
        json!({"expires_in": "1000000000000"}),
    );
    assert_eq!(status, Status::BadRequest, "{json}");
    assert_eq!(error_of(&json).0, "invalid_setting");
    assert_eq!(app.close_and_count_galleries(), 2);
}

#[test]
fn the_app_clock_moves_a_gallery_through_its_release_and_its_daily_hours() {
    use maiimg::clock::Clock;
    use std::time::Duration;

    // A Wednesday, 03:00 UTC.
    let start = time::macros::datetime!(2026-12-02 03:00 UTC);
    let clock = Clock::manual(start);
    let app = TestApp::on_clock(&clock, |_| {});
    let (id, _) = gallery(
        &app,
        Form::new()
            .text("available_from", &rfc3339(start + time::Duration::hours(2)))
            .text("daily_from", "09:00")
            .text("daily_until", "17:00")
            .text("timezone", "UTC"),
    );
    let hour = Duration::from_secs(3600);
    let (status, reason, _) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("scheduled"))
    );
    // 06:00: released, but outside its hours.
    clock.advance(hour * 3);
    let (status, reason, _) = view(&app, &id);
    assert_eq!(
        (status, reason.as_deref()),
        (Status::Forbidden, Some("hours"))
    );
    // 10:00: open.
    clock.advance(hour * 4);
    let (status, reason, _) = view(&app, &id);
    assert_eq!((status, reason), (Status::Ok, None));
    // 17:30: closed for the night again.
    clock.advance(hour * 7 + hour / 2);
    assert_eq!(view(&app, &id).1.as_deref(), Some("hours"));
}
