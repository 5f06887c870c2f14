//! Batches of owner actions: per-item answers, bodies refused whole, extending expiries within the instance's maximum, deleting with unshared files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn a_batch_reports_per_item_and_changes_nothing_it_may_not() {
    let app = TestApp::untracked(|_| {});
    let c = &app.client;
    let owner = new_owner(c);
    let by_key = gallery(&app, "By manage key", 1);
    let by_owner = gallery(&app, "By owner key", 2);
    let wrong = gallery(&app, "Wrong key", 3);
    let keyless = gallery(&app, "No key", 4);
    file(
        c,
        &owner,
        json!([{ "id": by_owner.id, "key": by_owner.key }]),
    );
    let items = json!([
        { "id": by_key.id, "key": by_key.key },
        { "id": by_owner.id, "key": owner },
        { "id": wrong.id, "key": by_key.key },
        { "id": keyless.id },
        { "id": "AAAAAAAAAAAAAAAA", "key": by_key.key },
    ]);

    let (status, json) = batch(c, json!({ "action": "disable", "items": items }));
    assert_eq!(status, Status::Ok);
    let got = outcomes(&json);
    let states: Vec<(bool, &str)> = got.iter().map(|(_, ok, w)| (*ok, w.as_str())).collect();
    assert_eq!(
        states,
        vec![
            (true, "disabled"),
            (true, "disabled"),
            (false, "unauthorized"),
            (false, "unauthorized"),
            (false, "not_found"),
        ]
    );
    let ids: Vec<&str> = got.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            by_key.id.as_str(),
            by_owner.id.as_str(),
            wrong.id.as_str(),
            keyless.id.as_str(),
            "AAAAAAAAAAAAAAAA"
        ],
        "results in item order"
    );
    let failed = &json["results"][2]["error"];
    assert!(
        failed["message"].as_str().unwrap().contains("key"),
        "{failed}"
    );
    assert_eq!(json["results"][0]["gallery"]["enabled"], false);
    for done in [&by_key, &by_owner] {
        assert_eq!(view(c, &done.id).1.as_deref(), Some("disabled"));
    }
    for untouched in [&wrong, &keyless] {
        let (_, json) = get_gallery(c, &untouched.id, &untouched.key);
        assert_eq!(json["settings"]["enabled"], true, "{}", untouched.id);
        assert_eq!(view(c, &untouched.id).0, Status::Ok);
    }

    // Every action refuses the same items the same way; delete too.
    let (_, json) = batch(c, json!({ "action": "enable", "items": items }));
    let oks: Vec<bool> = outcomes(&json).iter().map(|(_, ok, _)| *ok).collect();
    assert_eq!(oks, vec![true, true, false, false, false]);
    assert_eq!(view(c, &by_key.id).0, Status::Ok);
    let (_, json) = batch(
        c,
        json!({ "action": "delete", "items": [
            { "id": wrong.id, "key": by_key.key },
            { "id": keyless.id, "key": owner },
        ] }),
    );
    assert_eq!(
        outcomes(&json)
            .iter()
            .map(|(_, ok, w)| (*ok, w.as_str()))
            .collect::<Vec<_>>(),
        vec![(false, "unauthorized"), (false, "unauthorized")]
    );
    assert_eq!(view(c, &wrong.id).0, Status::Ok);
    assert_eq!(view(c, &keyless.id).0, Status::Ok);
}

#[test]
fn bad_batch_bodies_are_refused_whole() {
    let app = TestApp::new();
    let g = gallery(&app, "G", 1);
    let item = json!([{ "id": g.id, "key": g.key }]);
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({ "id": g.id, "key": g.key }))
        .collect();
    for body in [
        json!("not an object"),
        json!({ "items": item }),
        json!({ "action": "explode", "items": item }),
        json!({ "action": "disable", "items": item, "colour": "blue" }),
        json!({ "action": "disable", "items": [{ "key": g.key }] }),
        json!({ "action": "disable", "items": too_many }),
        json!({ "action": "extend", "items": item }),
        json!({ "action": "extend", "items": item, "expires_at": "next week" }),
        json!({ "action": "disable", "items": item, "expires_at": null }),
    ] {
        let (status, json) = batch(&app.client, body.clone());
        assert_eq!(status, Status::BadRequest, "{body}");
        error_of(&json);
    }
    let res = app
        .client
        .post("/api/galleries/batch")
        .header(ContentType::JSON)
        .body("{")
        .dispatch();
    assert_eq!(res.status(), Status::BadRequest);
    let (_, json) = get_gallery(&app.client, &g.id, &g.key);
    assert_eq!(json["state"], "active", "nothing changed");
    assert_eq!(json["settings"]["expires_at"], Value::Null);
}

#[test]
fn extend_sets_the_expiry_and_reopens_an_expired_gallery() {
    let app = TestApp::untracked(|_| {});
    let c = &app.client;
    let owner = new_owner(c);
    let soon = create(
        c,
        Form::new()
            .text("expires_in", "3600")
            .text("owner_key", &owner)
            .file("a.jpg", &jpeg(64, 48, 1)),
    );
    let expired = gallery(&app, "Expired", 2);
    let res = c
        .patch(format!("/api/galleries/{}", expired.id))
        .header(bearer(&expired.key))
        .header(ContentType::JSON)
        .body(
            json!({ "expires_at": rfc3339(OffsetDateTime::now_utc() - Duration::hours(1)) })
                .to_string(),
        )
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        view(c, &expired.id),
        (Status::Gone, Some("expired".to_owned()))
    );
    let untouched = gallery(&app, "Untouched", 3);

    let target = (OffsetDateTime::now_utc() + Duration::days(30))
        .replace_nanosecond(0)
        .unwrap();
    let (status, json) = batch(
        c,
        json!({
            "action": "extend",
            "expires_at": rfc3339(target),
            "items": [
                { "id": soon.id, "key": owner },
                { "id": expired.id, "key": expired.key },
                { "id": untouched.id, "key": soon.key },
            ],
        }),
    );
    assert_eq!(status, Status::Ok);
    let oks: Vec<(bool, String)> = outcomes(&json)
        .into_iter()
        .map(|(_, ok, w)| (ok, w))
        .collect();
    assert_eq!(
        oks,
        vec![
            (true, "active".to_owned()),
            (true, "active".to_owned()),
            (false, "unauthorized".to_owned())
        ]
    );
    assert_eq!(
        parse_time(&json["results"][0]["gallery"]["expires_at"]),
        target
    );
    for g in [&soon, &expired] {
        let (_, json) = get_gallery(c, &g.id, &g.key);
        assert_eq!(parse_time(&json["settings"]["expires_at"]), target);
    }
    assert_eq!(view(c, &expired.id).0, Status::Ok, "extending reopens it");
    let (_, json) = get_gallery(c, &untouched.id, &untouched.key);
    assert_eq!(json["settings"]["expires_at"], Value::Null, "untouched");

    // `null` removes the expiry (where the instance allows it).
    let (_, json) = batch(
        c,
        json!({ "action": "extend", "expires_at": null, "items": [{ "id": soon.id, "key": soon.key }] }),
    );
    assert_eq!(json["results"][0]["gallery"]["expires_at"], Value::Null);
}

#[test]
fn extend_keeps_to_the_instance_maximum() {
    let app = TestApp::with(|c| {
        c.default_expiry = "1d".into();
        c.max_expiry = "7d".into();
    });
    let g = gallery(&app, "G", 1);
    let (_, before) = get_gallery(&app.client, &g.id, &g.key);
    for at in [
        json!(rfc3339(OffsetDateTime::now_utc() + Duration::days(30))),
        json!(null),
    ] {
        let (status, json) = batch(
            &app.client,
            json!({ "action": "extend", "expires_at": at, "items": [{ "id": g.id, "key": g.key }] }),
        );
        assert_eq!(status, Status::BadRequest, "{json}");
        assert_eq!(error_of(&json).0, "invalid_setting");
    }
    let (_, after) = get_gallery(&app.client, &g.id, &g.key);
    assert_eq!(
        before["settings"]["expires_at"],
        after["settings"]["expires_at"]
    );
    let within = rfc3339(OffsetDateTime::now_utc() + Duration::days(6));
    let (status, json) = batch(
        &app.client,
        json!({ "action": "extend", "expires_at": within, "items": [{ "id": g.id, "key": g.key }] }),
    );
    assert_eq!(status, Status::Ok);
    assert_eq!(json["results"][0]["ok"], true);
}

#[test]
fn batch_delete_removes_links_and_unshared_blobs() {
    let app = TestApp::new();
    let c = &app.client;
    let owner = new_owner(c);
    let shared = jpeg(64, 48, 7);
    let keep = gallery(&app, "Keep", 10);
    let kept_files = app.blob_count();
    let second = create(
        c,
        Form::new()
            .file("shared.jpg", &shared)
            .file("other.jpg", &jpeg(64, 48, 9)),
    );
    let second_files = app.blob_count() - kept_files;
    let first = create(
        c,
        Form::new()
            .text("owner_key", &owner)
            .file("shared.jpg", &shared)
            .file("own.jpg", &jpeg(64, 48, 8)),
    );
    assert!(
        app.blob_count() > kept_files + second_files,
        "own.jpg added files"
    );
    let shared_etag = app.etag(&second.id, 0, "original");
    assert_eq!(
        app.etag(&first.id, 0, "original"),
        shared_etag,
        "one file, two galleries"
    );
    let keep_etag = app.etag(&keep.id, 0, "original");

    let (status, json) = batch(
        c,
        json!({ "action": "delete", "items": [
            { "id": first.id, "key": owner },
            { "id": second.id, "key": first.key },
        ] }),
    );
    assert_eq!(status, Status::Ok);
    assert_eq!(
        json["results"][0],
        json!({ "id": first.id, "ok": true, "state": "deleted" })
    );
    assert_eq!(error_of(&json["results"][1]).0, "unauthorized");
    assert_eq!(view(c, &first.id).0, Status::NotFound, "the link is gone");
    assert_eq!(view(c, &second.id).0, Status::Ok, "the other stays");
    assert!(owned_ids(c, &owner).is_empty(), "it left the owner's list");
    // Only the files the first gallery alone used went; the shared image stays.
    assert_eq!(app.blob_count(), kept_files + second_files);
    assert!(app.blob_path(&shared_etag).exists());

    let (_, json) = batch(
        c,
        json!({ "action": "delete", "items": [{ "id": second.id, "key": second.key }] }),
    );
    assert_eq!(json["results"][0]["state"], "deleted");
    assert_eq!(view(c, &second.id).0, Status::NotFound);
    assert!(
        !app.blob_path(&shared_etag).exists(),
        "no gallery uses it now"
    );
    assert!(app.blob_path(&keep_etag).exists());
    assert_eq!(
        app.blob_count(),
        kept_files,
        "only the kept gallery's files remain"
    );

    // Deleting again: that item is not found, nothing else happens.
    let (_, json) = batch(
        c,
        json!({ "action": "delete", "items": [{ "id": second.id, "key": second.key }] }),
    );
    assert_eq!(error_of(&json["results"][0]).0, "not_found");
    assert_eq!(app.blob_count(), kept_files);
}
