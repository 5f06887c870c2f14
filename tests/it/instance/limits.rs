//! The instance's limits over HTTP: rate limits, the upload password, impossible lengths, a full disk.

use super::*;

#[test]
fn uploads_over_the_rate_limit_are_refused_and_nothing_is_lost() {
    let app = TestApp::with(|c| c.rate_limit_uploads_per_hour = 3);
    // Two files in one gallery, one staged upload: the allowance of three is used up.
    let first = app.create(&[("a.jpg", &jpeg(64, 48, 1)), ("b.jpg", &jpeg(64, 48, 2))]);
    let first = field(&first, "id").to_owned();
    let res = upload(&app, &jpeg(64, 48, 3), vec![]);
    assert_eq!(res.status(), Status::Created);
    let staged = field(&json_of(res), "upload_id").to_owned();

    let blobs = app.blob_count();
    let res = upload(&app, &jpeg(64, 48, 4), vec![]);
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait = retry_after(&res);
    assert!((1..=3600).contains(&wait), "{wait}");
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "rate_limited");
    assert!(
        message.contains("try again in") && message.contains("minute"),
        "{message}"
    );
    // A multipart gallery counts its files too; the refused request stores nothing.
    let form = Form::new().file("c.jpg", &jpeg(64, 48, 5));
    app.refuse(
        "/api/galleries",
        form,
        Status::TooManyRequests,
        "rate_limited",
    );
    assert_eq!(
        app.blob_count(),
        blobs,
        "nothing of the refused uploads was kept"
    );

    // What was stored is intact, and the staged upload still makes its gallery.
    assert!(views(&app, &first));
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": [staged] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);

    // Another client has its own allowance.
    let (ct, body) = Form::new().file("d.jpg", &jpeg(64, 48, 6)).finish();
    let res = app
        .client
        .post("/api/uploads")
        .header(ct)
        .remote(SocketAddr::from(([198, 51, 100, 7], 40_000)))
        .body(body)
        .dispatch();
    assert_eq!(res.status(), Status::Created);
}

#[test]
fn gallery_creation_over_the_rate_limit_is_refused() {
    let app = TestApp::with(|c| c.rate_limit_galleries_per_hour = 2);
    let ids: Vec<String> = (1..=2)
        .map(|i| field(&app.create(&[("a.jpg", &jpeg(64, 48, i))]), "id").to_owned())
        .collect();
    let res = app.post_form(
        "/api/galleries",
        Form::new().file("c.jpg", &jpeg(64, 48, 9)),
    );
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(retry_after(&res) > 0);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "rate_limited");
    assert!(
        message.contains("galleries") && message.contains("try again in"),
        "{message}"
    );
    // The browser flow too (its upload is allowed: files and galleries count apart).
    let res = upload(&app, &jpeg(64, 48, 10), vec![]);
    let staged = field(&json_of(res), "upload_id").to_owned();
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": [staged] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::TooManyRequests);
    for id in &ids {
        assert!(views(&app, id), "{id} is intact");
    }
}

#[test]
fn a_private_instance_needs_the_upload_password_to_upload_not_to_view() {
    const PASSWORD: &str = "family-2026";
    let app = TestApp::with(|c| c.upload_password = PASSWORD.into());
    let password = |p: &str| vec![Header::new("X-Upload-Password", p.to_owned())];

    let res = upload(&app, &jpeg(64, 48, 1), vec![]);
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("WWW-Authenticate").is_none());
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "upload_password_required");
    assert!(message.contains("X-Upload-Password"), "{message}");
    let res = upload(&app, &jpeg(64, 48, 1), password("family-2025"));
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(error_of(&json_of(res)).0, "upload_password_wrong");
    app.refuse(
        "/api/galleries",
        Form::new().file("a.jpg", &jpeg(64, 48, 1)),
        Status::Unauthorized,
        "upload_password_required",
    );
    assert_eq!(app.blob_count(), 0);

    let res = upload(&app, &jpeg(64, 48, 1), password(PASSWORD));
    assert_eq!(res.status(), Status::Created);
    let staged = field(&json_of(res), "upload_id").to_owned();
    let create = |headers: Vec<Header<'static>>| {
        headers
            .into_iter()
            .fold(app.client.post("/api/galleries"), |r, h| r.header(h))
            .header(ContentType::JSON)
            .body(json!({ "uploads": [staged] }).to_string())
            .dispatch()
    };
    assert_eq!(create(vec![]).status(), Status::Unauthorized);
    let res = create(password(PASSWORD));
    assert_eq!(res.status(), Status::Created);
    let id = field(&json_of(res), "id").to_owned();
    let (ct, body) = Form::new().file("b.jpg", &jpeg(64, 48, 2)).finish();
    let res = app
        .client
        .post("/api/galleries")
        .header(ct)
        .header(Header::new("X-Upload-Password", PASSWORD))
        .body(body)
        .dispatch();
    assert_eq!(res.status(), Status::Created);

    // Viewing needs nothing; the upload page asks for the password.
    assert!(views(&app, &id));
    let page = app.get("/").text();
    assert!(has_id(&page, "upload-password") && page.contains("data-private=\"true\""));
    let public = TestApp::new().get("/").text();
    assert!(!public.contains("upload-password") && !public.contains("data-private"));
}

#[test]
fn wrong_upload_passwords_are_rate_limited() {
    let app = TestApp::with(|c| c.upload_password = "letmein".into());
    let wrong = || vec![Header::new("X-Upload-Password", "guess")];
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(upload(&app, &jpeg(16, 16, 1), wrong()).status());
    }
    assert!(statuses[..30].iter().all(|s| *s == Status::Unauthorized));
    assert_eq!(statuses[30], Status::TooManyRequests);
}

#[test]
fn a_declared_length_no_upload_may_have_is_refused_before_the_body_is_read() {
    let app = TestApp::with(|c| {
        c.max_file_bytes = 200_000;
        c.max_images = 2;
        c.rate_limit_uploads_per_hour = 2;
        c.rate_limit_galleries_per_hour = 1;
    });
    let photo = jpeg(40, 30, 1);
    // A small, valid body that claims to be far larger than any upload may be.
    for declared in ["1000000000000", "99999999999999999999999"] {
        let length = || Header::new("Content-Length", declared);
        let res = upload(&app, &photo, vec![length()]);
        assert_eq!(res.status(), Status::PayloadTooLarge);
        assert_eq!(error_of(&json_of(res)).0, "request_too_large");

        let (ct, body) = Form::new().file("p.jpg", &photo).finish();
        let req = app
            .client
            .post("/api/galleries")
            .header(ct)
            .header(length());
        let res = req.body(body).dispatch();
        assert_eq!(res.status(), Status::PayloadTooLarge);
        let (code, message) = error_of(&json_of(res));
        assert_eq!(code, "request_too_large");
        assert!(message.contains("MB"), "{message}");
    }
    assert_eq!(app.blob_count(), 0);
    // Nothing was read, so nothing of the hourly allowances was used either.
    assert_eq!(upload(&app, &photo, vec![]).status(), Status::Created);
    app.create(&[("p.jpg", &photo)]);
}

#[test]
fn a_full_disk_refuses_uploads_with_507_and_keeps_serving() {
    const QUOTA: u64 = 1_048_576;
    let app = TestApp::with(|c| c.max_storage_bytes = QUOTA);
    let first = field(&app.create(&[("a.jpg", &jpeg(400, 300, 1))]), "id").to_owned();

    // A body that cannot fit is refused before it is read (by its Content-Length; the
    // bytes are not even an image).
    let big = vec![0u8; 1_200_000];
    let length = Header::new("Content-Length", (big.len() + 200).to_string());
    let res = upload(&app, &big, vec![length]);
    assert_eq!(res.status(), Status::InsufficientStorage);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "storage_full");
    assert!(message.contains("storage is full"), "{message}");

    // Fill it up with uploads until the server says no.
    let mut staged = Vec::new();
    let mut refused = None;
    for seed in 2..60u8 {
        let res = upload(&app, &jpeg(700, 500, seed), vec![]);
        if res.status() == Status::Created {
            staged.push(field(&json_of(res), "upload_id").to_owned());
        } else {
            refused = Some((res.status(), json_of(res)));
            break;
        }
    }
    let (status, body) = refused.expect("the quota was reached");
    assert_eq!(status, Status::InsufficientStorage, "{body}");
    assert_eq!(error_of(&body).0, "storage_full");
    assert!(!staged.is_empty());
    let on_disk: u64 = blob_files(app.dir.path())
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        on_disk <= QUOTA,
        "{on_disk} bytes stored over a quota of {QUOTA}"
    );
    app.refuse(
        "/api/galleries",
        Form::new().file("x.jpg", &jpeg(700, 500, 99)),
        Status::InsufficientStorage,
        "storage_full",
    );

    // Viewing keeps working, and what was uploaded can still become a gallery.
    assert!(views(&app, &first));
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": staged }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let id = field(&json_of(res), "id").to_owned();
    assert!(views(&app, &id));
}
