//! `delivery = "redirect"` against a real S3 server: admitted viewers get a `302` to a
//! presigned URL of the bucket, the store serves it, and no URL is issued, kept, moved or
//! reused beyond what the access decision and `presign_ttl` allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use maiimg::clock::Clock;
use maiimg::model::Digest;
use rocket::http::Status;
use time::OffsetDateTime;

use crate::common::*;

/// The app on `bucket` with redirect delivery, on `clock`.
fn redirecting(bucket: &TestBucket, clock: &Clock, ttl: u64) -> TestApp {
    TestApp::on_clock(clock, |c| {
        bucket.configure(c);
        c.delivery = "redirect".into();
        c.presign_ttl = ttl;
    })
}

/// GET `url` from the store directly, as the browser does after the redirect.
fn fetch(url: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(url).expect("the store answers")
}

/// The `Location` of a `302`, which must not be cached.
fn location(res: &Fetched) -> String {
    assert_eq!(res.status, Status::Found, "redirected");
    assert_eq!(res.header("Cache-Control"), Some("no-store"));
    res.header("Location").expect("Location").to_owned()
}

/// The digest an object URL names (`…/blobs/<sha256>?…`).
fn digest_in(url: &str) -> String {
    let path = url.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn admitted_viewers_are_sent_to_presigned_urls_the_store_serves() {
    let Some(bucket) = test_bucket("redirect") else {
        return;
    };
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = redirecting(&bucket, &clock, 60);
    let (id, key) = app.two_photo_gallery();

    let thumb = location(&app.image(&id, 0, "thumb"));
    assert!(thumb.starts_with(&bucket.endpoint), "{thumb}");
    let got = fetch(&thumb);
    assert_eq!(got.status(), reqwest::StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.headers()["content-disposition"], "inline");
    let hex = digest_in(&thumb);
    assert_eq!(
        Digest::of(&got.bytes().unwrap()).to_hex(),
        hex,
        "the named object"
    );

    // Originals come as attachments with the download's name.
    let original = location(&app.image(&id, 1, "original"));
    let got = fetch(&original);
    assert_eq!(got.status(), reqwest::StatusCode::OK);
    let disposition = got.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("second.jpg"));

    // The same viewer asking again within half the TTL gets the same URL (the browser's
    // cache works); a later bucket signs anew.
    assert_eq!(location(&app.image(&id, 0, "thumb")), thumb);
    clock.advance(std::time::Duration::from_secs(31));
    let later = location(&app.image(&id, 0, "thumb"));
    assert_ne!(later, thumb);
    assert_eq!(fetch(&later).status(), reqwest::StatusCode::OK);

    // A URL cannot be moved to another object, nor its signature edited.
    let moved = thumb.replace(&hex, &digest_in(&original));
    assert_eq!(fetch(&moved).status(), reqwest::StatusCode::FORBIDDEN);
    let edited = thumb.replacen("X-Amz-Signature=", "X-Amz-Signature=00", 1);
    assert_eq!(fetch(&edited).status(), reqwest::StatusCode::FORBIDDEN);

    // The page lets images come from the bucket, and only from there besides itself.
    let page = app.get(&format!("/g/{id}"));
    let csp = page.header("Content-Security-Policy").unwrap().to_owned();
    let origin = bucket.endpoint.trim_end_matches('/');
    assert!(
        csp.contains(&format!("img-src 'self' blob: data: {origin};")),
        "{csp}"
    );

    // Once the access decision says no, no URL is issued.
    app.disable(&id, &key);
    let refused = app.image(&id, 0, "thumb");
    assert_ne!(refused.status, Status::Found);
    assert!(refused.header("Location").is_none());
}

#[test]
fn presigned_urls_expire_with_their_ttl() {
    let Some(bucket) = test_bucket("redirect-expiry") else {
        return;
    };
    // Signed two minutes ago with a ten-second life: the store must refuse it.
    let clock = Clock::manual(OffsetDateTime::now_utc() - time::Duration::minutes(2));
    let app = redirecting(&bucket, &clock, 10);
    let (id, _) = app.two_photo_gallery();
    let stale = location(&app.image(&id, 0, "display"));
    assert_eq!(fetch(&stale).status(), reqwest::StatusCode::FORBIDDEN);
}

#[test]
fn protected_galleries_stay_on_the_proxy_unless_opted_in() {
    let Some(bucket) = test_bucket("redirect-protected") else {
        return;
    };
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = redirecting(&bucket, &clock, 60);
    let limited = Form::new()
        .text("max_opens", "5")
        .file("a.jpg", &jpeg(64, 48, 1));
    let (id, _) = app.gallery(limited);
    let res = app.image(&id, 0, "thumb");
    assert_eq!(res.status, Status::Ok, "served through the server");
    assert!(res.header("Location").is_none());

    // A prefix of its own: a second database on a populated prefix is refused.
    let other = test_bucket("redirect-protected-opted-in").unwrap();
    let opted_in = TestApp::on_clock(&clock, |c| {
        other.configure(c);
        c.delivery = "redirect".into();
        c.delivery_protected = "redirect".into();
    });
    let limited = Form::new()
        .text("max_opens", "5")
        .file("a.jpg", &jpeg(64, 48, 1));
    let (id, _) = opted_in.gallery(limited);
    let url = location(&opted_in.image(&id, 0, "thumb"));
    assert_eq!(fetch(&url).status(), reqwest::StatusCode::OK);
}

#[test]
fn proxy_delivery_keeps_the_csp_to_the_site_itself() {
    let Some(bucket) = test_bucket("proxy-csp") else {
        return;
    };
    let app = TestApp::with(|c| bucket.configure(c));
    let (id, _) = app.two_photo_gallery();
    let page = app.get(&format!("/g/{id}"));
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(csp.contains("img-src 'self' blob: data:;"), "{csp}");
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Ok);
}

#[test]
fn the_store_answers_ranges_and_revalidation_of_a_presigned_url() {
    let Some(bucket) = test_bucket("redirect-range") else {
        return;
    };
    let clock = Clock::manual(OffsetDateTime::now_utc());
    let app = redirecting(&bucket, &clock, 60);
    let (id, _) = app.gallery(Form::new().file("big.jpg", &jpeg(900, 700, 5)));
    let url = location(&app.image(&id, 0, "original"));
    let whole = fetch(&url);
    assert_eq!(whole.status(), reqwest::StatusCode::OK);
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    let whole = whole.bytes().unwrap();
    assert!(whole.len() > 1000, "{} bytes", whole.len());

    // A download resumed or a viewer seeking: the first 100 bytes, exactly.
    let client = reqwest::blocking::Client::new();
    let part = client
        .get(&url)
        .header("Range", "bytes=0-99")
        .send()
        .unwrap();
    assert_eq!(part.status(), reqwest::StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-99/{}", whole.len()).as_str()
    );
    assert!(part.bytes().unwrap() == whole[..100], "the range's bytes");
    // A later range, as a resumed download asks for it.
    let tail = client
        .get(&url)
        .header("Range", format!("bytes={}-", whole.len() - 10))
        .send()
        .unwrap();
    assert_eq!(tail.status(), reqwest::StatusCode::PARTIAL_CONTENT);
    assert!(tail.bytes().unwrap() == whole[whole.len() - 10..]);

    // The browser revalidating its copy with the store's ETag: 304, no body.
    let cached = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(cached.status(), reqwest::StatusCode::NOT_MODIFIED);
    assert!(cached.bytes().unwrap().is_empty());
    let changed = client
        .get(&url)
        .header("If-None-Match", "\"another\"")
        .send()
        .unwrap();
    assert_eq!(changed.status(), reqwest::StatusCode::OK);
    assert!(changed.bytes().unwrap() == whole);

    // The next signing bucket's URL names the same object: the browser's copy still
    // revalidates.
    clock.advance(std::time::Duration::from_secs(31));
    let later = location(&app.image(&id, 0, "original"));
    assert_ne!(later, url);
    let cached = client
        .get(&later)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(
        cached.status(),
        reqwest::StatusCode::NOT_MODIFIED,
        "same object, same ETag"
    );
}
