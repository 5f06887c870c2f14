//! The owner's edits through the API: title, captions, images added, removed and
//! reordered, settings changed — each takes effect for viewers at once, blobs are counted
//! right, and nothing changes without the key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

/// A gallery of `n` distinct images; (id, key).
fn gallery(app: &TestApp, n: u8) -> (String, String) {
    let form = (0..n).fold(Form::new(), |f, i| {
        f.file(
            &format!("p{i}.jpg"),
            &jpeg(64 + u32::from(i) * 8, 48, i + 1),
        )
    });
    app.gallery(form)
}

fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (Status, Value) {
    let mut req = match method {
        "PATCH" => app.client.patch(path.to_owned()),
        "PUT" => app.client.put(path.to_owned()),
        "POST" => app.client.post(path.to_owned()),
        "DELETE" => app.client.delete(path.to_owned()),
        _ => app.client.get(path.to_owned()),
    };
    if let Some(key) = key {
        req = req.header(Header::new("Authorization", format!("Bearer {key}")));
    }
    if let Some(body) = body {
        req = req.header(ContentType::JSON).body(body.to_string());
    }
    let res = req.dispatch();
    let status = res.status();
    let body = res
        .into_string()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// The thumbnails' ETags (their digests) in gallery order, as a viewer gets them.
fn thumbs(app: &TestApp, id: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| app.etag(id, i, "thumb")).collect()
}

fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> String {
    let res = app.post_form("/api/uploads", Form::new().file(name, bytes));
    assert_eq!(res.status(), Status::Created);
    field(&json_of(res), "upload_id").to_owned()
}

#[test]
fn title_captions_and_order_change_for_viewers_at_once() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, 3);
    let before = thumbs(&app, &id, 3);

    let (status, json) = send(
        &app,
        "PATCH",
        &format!("/api/galleries/{id}"),
        Some(&key),
        Some(json!({"title": "  Wedding   <b>day</b> ", "max_opens": 10})),
    );
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(json["title"], "Wedding <b>day</b>");
    assert_eq!(json["settings"]["max_opens"], 10);
    let (status, json) = send(
        &app,
        "PATCH",
        &format!("/api/galleries/{id}/images/1"),
        Some(&key),
        Some(json!({"caption": "The first dance"})),
    );
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(json["images"][1]["caption"], "The first dance");

    let page = app.get(&format!("/g/{id}")).text();
    assert!(
        page.contains("Wedding &lt;b&gt;day&lt;/b&gt;"),
        "title escaped on the page"
    );
    assert!(page.contains("The first dance"));

    let (status, json) = send(
        &app,
        "PUT",
        &format!("/api/galleries/{id}/order"),
        Some(&key),
        Some(json!({"order": [2, 0, 1]})),
    );
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(
        thumbs(&app, &id, 3),
        [before[2].clone(), before[0].clone(), before[1].clone()]
    );
    assert_eq!(
        json["images"][2]["caption"], "The first dance",
        "captions move with images"
    );

    for bad in [
        json!({"order": [0, 1]}),
        json!({"order": [0, 0, 1]}),
        json!({"order": [0, 1, 3]}),
    ] {
        let (status, json) = send(
            &app,
            "PUT",
            &format!("/api/galleries/{id}/order"),
            Some(&key),
            Some(bad),
        );
        assert_eq!(
            (status, json["error"]["code"].as_str()),
            (Status::BadRequest, Some("invalid_edit"))
        );
    }
    assert_eq!(
        thumbs(&app, &id, 3),
        [before[2].clone(), before[0].clone(), before[1].clone()]
    );
}

#[test]
fn edits_need_the_key_and_change_nothing_without_it() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, 2);
    let before = thumbs(&app, &id, 2);
    let attempts = [
        (
            "PATCH",
            format!("/api/galleries/{id}"),
            Some(json!({"title": "x"})),
        ),
        (
            "PATCH",
            format!("/api/galleries/{id}/images/0"),
            Some(json!({"caption": "x"})),
        ),
        (
            "PUT",
            format!("/api/galleries/{id}/order"),
            Some(json!({"order": [1, 0]})),
        ),
        ("DELETE", format!("/api/galleries/{id}/images/0"), None),
        (
            "POST",
            format!("/api/galleries/{id}/images"),
            Some(json!({"uploads": []})),
        ),
    ];
    for (method, path, body) in attempts {
        for wrong in [None, Some("not-the-key")] {
            let (status, _) = send(&app, method, &path, wrong, body.clone());
            assert_eq!(status, Status::Unauthorized, "{method} {path}");
        }
    }
    let (_, json) = send(
        &app,
        "GET",
        &format!("/api/galleries/{id}"),
        Some(&key),
        None,
    );
    assert_eq!(json["title"], "");
    assert_eq!(json["images"].as_array().unwrap().len(), 2);
    assert_eq!(thumbs(&app, &id, 2), before);
}

#[test]
fn adding_and_removing_images_counts_blobs_right() {
    let app = TestApp::with(|c| c.max_images = 3);
    let (id, key) = gallery(&app, 2);
    let shared_bytes = jpeg(80, 60, 42);
    // Another gallery holds the same bytes: its blobs are shared.
    let other = app.create(&[("same.jpg", &shared_bytes)]);
    let other_id = field(&other, "id").to_owned();

    let staged = upload(&app, "same.jpg", &shared_bytes);
    let (status, json) = send(
        &app,
        "POST",
        &format!("/api/galleries/{id}/images"),
        Some(&key),
        Some(json!({"uploads": [staged]})),
    );
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(json["images"].as_array().unwrap().len(), 3);
    let shared = app.etag(&id, 2, "thumb");
    assert_eq!(shared, app.etag(&other_id, 0, "thumb"));

    // Over the instance's maximum: refused, nothing added, the upload stays usable.
    let extra = upload(&app, "extra.jpg", &jpeg(90, 60, 77));
    let (status, json) = send(
        &app,
        "POST",
        &format!("/api/galleries/{id}/images"),
        Some(&key),
        Some(json!({"uploads": [extra]})),
    );
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (Status::BadRequest, Some("too_many_files"))
    );

    // Removing the shared image keeps its blob for the other gallery.
    let (status, _) = send(
        &app,
        "DELETE",
        &format!("/api/galleries/{id}/images/2"),
        Some(&key),
        None,
    );
    assert_eq!(status, Status::Ok);
    assert!(app.blob_path(&shared).exists());
    assert_eq!(app.image(&other_id, 0, "thumb").status, Status::Ok);

    // Removing an unshared image removes its files.
    let only_here = app.etag(&id, 0, "thumb");
    let (status, json) = send(
        &app,
        "DELETE",
        &format!("/api/galleries/{id}/images/0"),
        Some(&key),
        None,
    );
    assert_eq!(status, Status::Ok, "{json}");
    assert!(!app.blob_path(&only_here).exists());
    assert_eq!(json["images"].as_array().unwrap().len(), 1);

    // The last image stays: delete the gallery instead.
    let (status, json) = send(
        &app,
        "DELETE",
        &format!("/api/galleries/{id}/images/0"),
        Some(&key),
        None,
    );
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (Status::BadRequest, Some("invalid_edit"))
    );
    let (status, _) = send(
        &app,
        "DELETE",
        &format!("/api/galleries/{id}/images/5"),
        Some(&key),
        None,
    );
    assert_eq!(status, Status::NotFound);
}

#[test]
fn settings_edits_take_effect_for_viewers_immediately() {
    let app = TestApp::untracked(|_| {});
    let (id, key) = gallery(&app, 1);
    let page = format!("/g/{id}");
    let patch = |body: Value| {
        let (status, json) = send(
            &app,
            "PATCH",
            &format!("/api/galleries/{id}"),
            Some(&key),
            Some(body),
        );
        assert_eq!(status, Status::Ok, "{json}");
    };

    // A limit of one, used up: the next viewer gets the limit page; raising it reopens.
    patch(json!({"max_opens": 1}));
    assert_eq!(app.get(&page).status, Status::Ok);
    assert_eq!(app.get(&page).status, Status::Gone);
    patch(json!({"max_opens": 2}));
    assert_eq!(app.get(&page).status, Status::Ok);
    patch(json!({"max_opens": null}));

    // Expiry moved into the past and back.
    patch(json!({"expires_in": 1}));
    patch(json!({"expires_at": "2000-01-01T00:00:00Z"}));
    assert_eq!(app.get(&page).status, Status::Gone);
    patch(json!({"expires_at": null}));
    assert_eq!(app.get(&page).status, Status::Ok);

    // Downloads turned off hide the original at once, even from an admitted viewer.
    let res = app.client.get(page.clone()).dispatch();
    let ticket = res
        .cookies()
        .iter()
        .find(|c| c.name().starts_with("t_"))
        .cloned()
        .unwrap();
    let original = format!("/g/{id}/i/0/original");
    let fetch = |path: &str| {
        app.client
            .get(path.to_owned())
            .cookie(ticket.clone())
            .dispatch()
            .status()
    };
    assert_eq!(fetch(&original), Status::Ok);
    patch(json!({"allow_download": false}));
    assert_eq!(fetch(&original), Status::NotFound);
    assert_eq!(fetch(&format!("/g/{id}/zip")), Status::NotFound);
    assert_eq!(fetch(&format!("/g/{id}/i/0/display")), Status::Ok);
}

/// Whether `text` holds a bidi embedding, override or isolate.
fn has_bidi(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

#[test]
fn bidi_controls_are_dropped_from_titles_captions_and_file_names() {
    let app = TestApp::new();
    // Every embedding, override and isolate, in each kind of text.
    let bidi = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}";
    // ZWJ and ZWNJ are text: a family emoji, a Persian word.
    let family = "\u{1F469}\u{200D}\u{1F467}";
    let persian = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}";
    let form = Form::new()
        .text("title", &format!("Holi{bidi}day {family}"))
        .file(&format!("photo{bidi}gpj.exe.jpg"), &jpeg(40, 30, 1));
    let res = app.post_form("/api/galleries", form);
    assert_eq!(res.status(), Status::Created);
    let created = json_of(res);
    let (id, key) = (field(&created, "id"), field(&created, "manage_key"));
    assert_eq!(created["images"][0]["name"], "photogpj.exe.jpg");
    let (_, json) = send(
        &app,
        "GET",
        &format!("/api/galleries/{id}"),
        Some(key),
        None,
    );
    assert_eq!(json["title"], format!("Holiday {family}"));

    let url = format!("/api/galleries/{id}");
    let title = json!({"title": format!("{persian}{bidi} {family}")});
    let (status, json) = send(&app, "PATCH", &url, Some(key), Some(title));
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(json["title"], format!("{persian} {family}"));

    let url = format!("/api/galleries/{id}/images/0");
    let caption = json!({"caption": format!("{bidi}{persian} {family}{bidi}")});
    let (status, json) = send(&app, "PATCH", &url, Some(key), Some(caption));
    assert_eq!(status, Status::Ok, "{json}");
    assert_eq!(json["images"][0]["caption"], format!("{persian} {family}"));

    let staged = app.post_form(
        "/api/uploads",
        Form::new().file(&format!("{bidi}staged.jpg"), &jpeg(30, 40, 2)),
    );
    assert_eq!(field(&json_of(staged), "name"), "staged.jpg");
    assert!(!has_bidi(&app.get(&format!("/g/{id}")).text()));
}
