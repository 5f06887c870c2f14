//! What the access settings form sends, as the API takes it: the owner changes the time
//! zone, and an empty or absent day list means every day, on creation and on change.

use super::*;

/// The body both pages' form sends (access-form.js): every field, `days` null when no
/// day is ticked.
fn form_body(days: Value, timezone: &str) -> Value {
    json!({
        "max_opens": null, "allow_download": true, "available_from": null,
        "available_until": null, "daily_from": "09:00", "daily_until": "17:00",
        "days": days, "timezone": timezone,
    })
}

#[test]
fn the_owner_changes_the_time_zone_and_keeps_the_daily_hours() {
    let app = TestApp::new();
    let (id, key) = gallery(
        &app,
        Form::new()
            .text("daily_from", "09:00")
            .text("daily_until", "17:00")
            .text("days", "mon,wed")
            .text("timezone", "America/New_York"),
    );
    let (status, json) = patch(&app, &id, Some(&key), json!({"timezone": "Asia/Tokyo"}));
    assert_eq!(status, Status::Ok, "{json}");
    let settings = &json["settings"];
    assert_eq!(settings["timezone"], "Asia/Tokyo");
    assert_eq!(settings["days"], "mon,wed", "the other settings stay");
    assert_eq!(settings["daily_from"], "09:00");

    // An unknown zone is refused by name and changes nothing.
    let (status, json) = patch(
        &app,
        &id,
        Some(&key),
        json!({"timezone": "Mars/Olympus_Mons"}),
    );
    assert_eq!(status, Status::BadRequest);
    assert!(error_of(&json).1.contains("timezone"), "{json}");
    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(json["settings"]["timezone"], "Asia/Tokyo");
}

#[test]
fn no_day_given_means_every_day_when_changing() {
    let app = TestApp::new();
    let every_day = "mon,tue,wed,thu,fri,sat,sun";
    for days in [json!(null), json!("")] {
        let (id, key) = gallery(
            &app,
            Form::new()
                .text("daily_from", "09:00")
                .text("daily_until", "17:00")
                .text("days", "sat,sun"),
        );
        let (status, json) = patch(
            &app,
            &id,
            Some(&key),
            form_body(days.clone(), "Europe/Berlin"),
        );
        assert_eq!(status, Status::Ok, "{json}");
        assert_eq!(json["settings"]["days"], every_day, "days: {days}");
        assert_eq!(json["settings"]["timezone"], "Europe/Berlin");
    }
}

#[test]
fn no_day_given_means_every_day_when_creating() {
    let app = TestApp::new();
    let res = app.post_form("/api/uploads", Form::new().file("b.jpg", &jpeg(32, 32, 4)));
    let staged = field(&json_of(res), "upload_id").to_owned();
    let body = json!({"uploads": [staged], "settings": form_body(json!(null), "Pacific/Auckland")});
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let created = json_of(res);
    let (id, key) = (field(&created, "id"), field(&created, "manage_key"));
    let (_, json) = app.manage(false, id, Some(format!("Bearer {key}")));
    assert_eq!(json["settings"]["days"], "mon,tue,wed,thu,fri,sat,sun");
    assert_eq!(json["settings"]["timezone"], "Pacific/Auckland");
}
