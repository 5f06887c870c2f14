//! Filing galleries under an owner key (each with its manage key), refusals at creation,
//! and QR codes of posted text.

use super::*;

#[test]
fn filing_needs_each_gallery_s_manage_key() {
    let app = TestApp::new();
    let c = &app.client;
    let owner = new_owner(c);
    let other_owner = new_owner(c);
    let a = gallery(&app, "A", 1);
    let b = gallery(&app, "B", 2);
    let d = gallery(&app, "D", 3);
    let e = gallery(&app, "E", 4);
    // E is another owner's already: that owner key is not E's manage key either.
    file(c, &other_owner, json!([{ "id": e.id, "key": e.key }]));

    let (status, json) = file(
        c,
        &owner,
        json!([
            { "id": a.id, "key": a.key },
            { "id": b.id, "key": a.key },
            { "id": d.id },
            { "id": e.id, "key": other_owner },
            { "id": "AAAAAAAAAAAAAAAA", "key": a.key },
            { "id": "../../etc/passwd", "key": a.key },
        ]),
    );
    assert_eq!(status, Status::Ok);
    let got = outcomes(&json);
    let expect = |id: &str, ok: bool, what: &str| (id.to_owned(), ok, what.to_owned());
    assert_eq!(
        got,
        vec![
            expect(&a.id, true, "active"),
            expect(&b.id, false, "unauthorized"),
            expect(&d.id, false, "unauthorized"),
            expect(&e.id, false, "unauthorized"),
            expect("AAAAAAAAAAAAAAAA", false, "not_found"),
            expect("../../etc/passwd", false, "not_found"),
        ]
    );
    assert_eq!(json["results"][0]["gallery"]["title"], "A");
    assert_eq!(owned_ids(c, &owner), vec![a.id.clone()]);
    assert_eq!(owned_ids(c, &other_owner), vec![e.id.clone()]);
    assert_eq!(get_gallery(c, &b.id, &owner).0, Status::Unauthorized);

    // Filing needs an owner key, and a readable body.
    let res = c
        .post("/api/owner/galleries")
        .header(ContentType::JSON)
        .body(json!({ "items": [{ "id": b.id, "key": b.key }] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    let res = c
        .post("/api/owner/galleries")
        .header(bearer(&b.key[..20]))
        .header(ContentType::JSON)
        .body(json!({ "items": [{ "id": b.id, "key": b.key }] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    for body in ["{", r#"{"items": 3}"#, r#"{"items": [], "extra": 1}"#] {
        let res = c
            .post("/api/owner/galleries")
            .header(bearer(&owner))
            .header(ContentType::JSON)
            .body(body)
            .dispatch();
        assert_eq!(res.status(), Status::BadRequest, "{body}");
    }
    assert_eq!(owned_ids(c, &owner), vec![a.id.clone()]);

    // The manage key moves a gallery to another owner key: the first loses it.
    let (_, json) = file(c, &other_owner, json!([{ "id": a.id, "key": a.key }]));
    assert_eq!(json["results"][0]["ok"], true);
    assert!(owned_ids(c, &owner).is_empty());
    assert_eq!(get_gallery(c, &a.id, &owner).0, Status::Unauthorized);
    assert_eq!(get_gallery(c, &a.id, &other_owner).0, Status::Ok);
    // Filing again where it already is changes nothing.
    let (_, json) = file(c, &other_owner, json!([{ "id": a.id, "key": a.key }]));
    assert_eq!(json["results"][0]["ok"], true);
    assert_eq!(owned_ids(c, &other_owner).len(), 2);
}

#[test]
fn a_malformed_owner_key_at_creation_stores_nothing() {
    let app = TestApp::new();
    let form = Form::new()
        .text("owner_key", "my-own-password")
        .file("a.jpg", &jpeg(64, 48, 1));
    let message = app.refuse("/api/galleries", form, Status::BadRequest, "bad_request");
    assert!(message.contains("owner_key"), "{message}");
    let res = app
        .client
        .post("/api/galleries")
        .header(Header::new("X-Owner-Key", "short"))
        .header(ContentType::JSON)
        .body(json!({ "uploads": [] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::BadRequest);
    drop(res);
    assert_eq!(app.blob_count(), 0, "no file kept");
    assert_eq!(app.close_and_count_galleries(), 0, "no gallery stored");
}

#[test]
fn qr_codes_of_posted_text_and_the_page() {
    let app = TestApp::new();
    let text = format!("{PUBLIC_URL}/galleries#owner=abc");
    let res = app
        .client
        .post("/api/qr")
        .header(ContentType::JSON)
        .body(json!({ "text": text }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::SVG));
    let svg = res.into_string().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert_eq!(
        svg,
        maiimg::domain::qr::svg(&text).unwrap(),
        "the text as sent"
    );
    for text in [String::new(), "x".repeat(2000)] {
        let res = app
            .client
            .post("/api/qr")
            .header(ContentType::JSON)
            .body(json!({ "text": text }).to_string())
            .dispatch();
        assert_eq!(res.status(), Status::BadRequest);
    }

    let page = app.get("/galleries");
    assert_eq!(page.status, Status::Ok);
    let html = page.text();
    for id in [
        "id=\"gallery-list\"",
        "id=\"select-all\"",
        "id=\"batch-disable\"",
        "id=\"batch-delete\"",
        "id=\"owner-create\"",
        "id=\"export-keys\"",
        "galleries.js",
    ] {
        assert!(html.contains(id), "{id} missing");
    }
    assert!(!html.contains(" style="), "no inline style under the CSP");
    // Owners' pages link to it; a viewer's page does not.
    assert!(app.get("/").text().contains("href=\"/galleries\""));
    let g = gallery(&app, "G", 1);
    assert!(
        !app.get(&format!("/g/{}", g.id))
            .text()
            .contains("href=\"/galleries\"")
    );
}
