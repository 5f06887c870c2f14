//! Owner keys and batches through the API: an owner key lists its galleries from a fresh
//! client and manages them (and nothing else); filing needs each gallery's manage key;
//! batches answer per item and change nothing they may not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use maiimg::config::RawConfig;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn bearer(key: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {key}"))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn parse_time(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("a time"), &Rfc3339).unwrap()
}

/// A gallery as its uploader gets it.
struct Made {
    id: String,
    key: String,
}

fn create(client: &Client, form: Form) -> Made {
    let (content_type, body) = form.finish();
    let res = client
        .post("/api/galleries")
        .header(content_type)
        .body(body)
        .dispatch();
    let status = res.status();
    let json = json_of(res);
    assert_eq!(status, Status::Created, "{json}");
    Made {
        id: field(&json, "id").to_owned(),
        key: field(&json, "manage_key").to_owned(),
    }
}

fn gallery(app: &TestApp, title: &str, seed: u8) -> Made {
    create(
        &app.client,
        Form::new()
            .text("title", title)
            .file("a.jpg", &jpeg(64, 48, seed)),
    )
}

fn new_owner(client: &Client) -> String {
    let res = client.post("/api/owner").dispatch();
    assert_eq!(res.status(), Status::Ok);
    let json = json_of(res);
    let key = field(&json, "owner_key").to_owned();
    assert_eq!(
        field(&json, "owner_url"),
        format!("{PUBLIC_URL}/galleries#owner={key}")
    );
    key
}

/// GET `/api/owner/galleries` with this Authorization value.
fn owned(client: &Client, auth: Option<&str>) -> (Status, Value) {
    let mut req = client.get("/api/owner/galleries");
    if let Some(key) = auth {
        req = req.header(bearer(key));
    }
    let res = req.dispatch();
    (res.status(), json_of(res))
}

fn owned_ids(client: &Client, owner: &str) -> Vec<String> {
    let (status, json) = owned(client, Some(owner));
    assert_eq!(status, Status::Ok, "{json}");
    json["galleries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| field(g, "id").to_owned())
        .collect()
}

/// POST `/api/owner/galleries` with the owner key and items.
fn file(client: &Client, owner: &str, items: Value) -> (Status, Value) {
    let res = client
        .post("/api/owner/galleries")
        .header(bearer(owner))
        .header(ContentType::JSON)
        .body(json!({ "items": items }).to_string())
        .dispatch();
    (res.status(), json_of(res))
}

fn batch(client: &Client, body: Value) -> (Status, Value) {
    let res = client
        .post("/api/galleries/batch")
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch();
    (res.status(), json_of(res))
}

/// (ok, state or error code) of each result, in order.
fn outcomes(json: &Value) -> Vec<(String, bool, String)> {
    json["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {json}"))
        .iter()
        .map(|r| {
            let ok = r["ok"].as_bool().unwrap();
            let what = if ok {
                field(r, "state").to_owned()
            } else {
                error_of(r).0
            };
            (field(r, "id").to_owned(), ok, what)
        })
        .collect()
}

fn get_gallery(client: &Client, id: &str, key: &str) -> (Status, Value) {
    let res = client
        .get(format!("/api/galleries/{id}"))
        .header(bearer(key))
        .dispatch();
    (res.status(), json_of(res))
}

fn switch(client: &Client, id: &str, key: &str, what: &str) -> Status {
    client
        .post(format!("/api/galleries/{id}/{what}"))
        .header(bearer(key))
        .dispatch()
        .status()
}

/// The viewer page's status and `data-reason`.
fn view(client: &Client, id: &str) -> (Status, Option<String>) {
    let res = client.get(format!("/g/{id}")).dispatch();
    let status = res.status();
    let text = res.into_string().unwrap_or_default();
    let reason = text
        .split("data-reason=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned);
    (status, reason)
}

/// The same data directory served again by a new app and a new client: no cookies, no
/// state in memory, only what was committed.
fn reopen(app: TestApp) -> (Client, tempfile::TempDir) {
    let TestApp { client, dir } = app;
    drop(client);
    let config = RawConfig {
        data_dir: dir.path().to_path_buf(),
        public_url: PUBLIC_URL.into(),
        log_level: "off".into(),
        ..RawConfig::default()
    };
    let rocket = maiimg::build(config.validated().unwrap()).unwrap();
    (Client::untracked(rocket).unwrap(), dir)
}

mod batch;
mod filing;

#[test]
fn an_owner_key_lists_its_galleries_from_a_fresh_client() {
    let app = TestApp::new();
    let owner = new_owner(&app.client);
    assert_ne!(owner, new_owner(&app.client), "a new key every time");

    // Filed at creation: a multipart field, …
    let first = create(
        &app.client,
        Form::new()
            .text("title", "First")
            .text("owner_key", &owner)
            .text("expires_in", "86400")
            .file("a.jpg", &jpeg(64, 48, 1))
            .file("b.jpg", &jpeg(64, 48, 2)),
    );
    // … the X-Owner-Key header on the browser's JSON flow, …
    let staged = app.post_form("/api/uploads", Form::new().file("c.jpg", &jpeg(40, 30, 3)));
    assert_eq!(staged.status(), Status::Created);
    let upload = field(&json_of(staged), "upload_id").to_owned();
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .header(Header::new("X-Owner-Key", owner.clone()))
        .body(json!({ "title": "Second", "uploads": [upload] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let second = field(&json_of(res), "id").to_owned();
    // … or its `owner_key` field; and filed later with the manage key.
    let staged = app.post_form("/api/uploads", Form::new().file("d.jpg", &jpeg(40, 30, 4)));
    let upload = field(&json_of(staged), "upload_id").to_owned();
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "title": "Third", "uploads": [upload], "owner_key": owner }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let third = field(&json_of(res), "id").to_owned();
    let later = gallery(&app, "Fourth", 5);
    let (status, json) = file(
        &app.client,
        &owner,
        json!([{ "id": later.id, "key": later.key }]),
    );
    assert_eq!(status, Status::Ok);
    assert_eq!(
        outcomes(&json),
        vec![(later.id.clone(), true, "active".to_owned())]
    );
    let unfiled = gallery(&app, "Not filed", 6);

    let (client, _dir) = reopen(app);
    let (status, json) = owned(&client, Some(&owner));
    assert_eq!(status, Status::Ok);
    let list = json["galleries"].as_array().unwrap();
    let mut ids: Vec<&str> = list.iter().map(|g| field(g, "id")).collect();
    ids.sort_unstable();
    let mut expected = vec![
        first.id.as_str(),
        second.as_str(),
        third.as_str(),
        later.id.as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected, "exactly the filed galleries");
    let created: Vec<OffsetDateTime> = list.iter().map(|g| parse_time(&g["created_at"])).collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    let row = list.iter().find(|g| g["id"] == first.id.as_str()).unwrap();
    assert_eq!(row["title"], "First");
    assert_eq!(row["state"], "active");
    assert_eq!(row["enabled"], true);
    assert_eq!(row["images"], 2);
    assert_eq!(row["opens"], 0);
    assert_eq!(
        row["share_url"],
        format!("{PUBLIC_URL}/g/{}", first.id).as_str()
    );
    let left = parse_time(&row["expires_at"]) - OffsetDateTime::now_utc();
    assert!(
        left > Duration::hours(23) && left <= Duration::hours(24),
        "{left}"
    );
    let thumb_url = field(row, "thumb_url");
    assert_eq!(
        thumb_url,
        format!("{PUBLIC_URL}/api/galleries/{}/i/0/thumb", first.id)
    );
    // The thumbnail is the owner's with the owner key (and nobody's without it).
    let path = thumb_url.trim_start_matches(PUBLIC_URL).to_owned();
    let thumb = client.get(path.clone()).header(bearer(&owner)).dispatch();
    assert_eq!(thumb.status(), Status::Ok);
    decode(&thumb.into_bytes().unwrap());
    assert_eq!(client.get(path).dispatch().status(), Status::Unauthorized);
    // No manage key ever leaves the server again.
    let text = json.to_string();
    for key in [&first.key, &later.key] {
        assert!(!text.contains(key.as_str()), "a manage key was listed");
    }
    assert!(!text.contains(&unfiled.id), "an unfiled gallery was listed");

    // No key, a malformed one: refused. A well-formed key that owns nothing: nothing.
    assert_eq!(owned(&client, None).0, Status::Unauthorized);
    assert_eq!(owned(&client, Some("not-a-key")).0, Status::Unauthorized);
    let (code, _) = error_of(&owned(&client, Some(&first.key[..31])).1);
    assert_eq!(code, "unauthorized");
    let stranger = new_owner(&client);
    assert_eq!(
        owned(&client, Some(&stranger)).1,
        json!({ "galleries": [] })
    );
}

#[test]
fn the_owner_key_manages_its_galleries_and_no_others() {
    let app = TestApp::untracked(|_| {});
    let c = &app.client;
    let owner = new_owner(c);
    let other_owner = new_owner(c);
    let mine = gallery(&app, "Mine", 1);
    let unfiled = gallery(&app, "Unfiled", 2);
    let theirs = gallery(&app, "Theirs", 3);
    file(c, &owner, json!([{ "id": mine.id, "key": mine.key }]));
    file(
        c,
        &other_owner,
        json!([{ "id": theirs.id, "key": theirs.key }]),
    );

    // Everything a manage key does, the owner key does.
    let (status, json) = get_gallery(c, &mine.id, &owner);
    assert_eq!((status, json["title"].as_str()), (Status::Ok, Some("Mine")));
    let res = c
        .patch(format!("/api/galleries/{}", mine.id))
        .header(bearer(&owner))
        .header(ContentType::JSON)
        .body(json!({ "max_opens": 5 }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_of(res)["settings"]["max_opens"], 5);
    assert_eq!(switch(c, &mine.id, &owner, "disable"), Status::Ok);
    assert_eq!(
        view(c, &mine.id),
        (Status::Forbidden, Some("disabled".to_owned()))
    );
    assert_eq!(switch(c, &mine.id, &owner, "enable"), Status::Ok);
    assert_eq!(view(c, &mine.id).0, Status::Ok);
    let stats = c
        .get(format!("/api/galleries/{}/stats", mine.id))
        .header(bearer(&owner))
        .dispatch();
    assert_eq!(stats.status(), Status::Ok);
    // The manage key still works too.
    assert_eq!(get_gallery(c, &mine.id, &mine.key).0, Status::Ok);

    // Nothing of anyone else's: not unfiled galleries, not another owner's.
    for other in [&unfiled, &theirs] {
        assert_eq!(get_gallery(c, &other.id, &owner).0, Status::Unauthorized);
        let res = c
            .patch(format!("/api/galleries/{}", other.id))
            .header(bearer(&owner))
            .header(ContentType::JSON)
            .body(json!({ "max_opens": 1 }).to_string())
            .dispatch();
        assert_eq!(res.status(), Status::Unauthorized);
        assert_eq!(
            switch(c, &other.id, &owner, "disable"),
            Status::Unauthorized
        );
        let (status, _) = app.manage(true, &other.id, Some(format!("Bearer {owner}")));
        assert_eq!(status, Status::Unauthorized);
        let (status, json) = get_gallery(c, &other.id, &other.key);
        assert_eq!(status, Status::Ok);
        assert_eq!(json["state"], "active", "untouched");
        assert_eq!(json["settings"]["max_opens"], Value::Null, "untouched");
    }

    // Deleting with the owner key: the link goes, and the gallery leaves the owner's list.
    let (status, _) = app.manage(true, &mine.id, Some(format!("Bearer {owner}")));
    assert_eq!(status, Status::NoContent);
    assert_eq!(view(c, &mine.id).0, Status::NotFound);
    assert!(owned_ids(c, &owner).is_empty());
    assert_eq!(owned_ids(c, &other_owner), vec![theirs.id.clone()]);
}
