//! A gallery whose files are in a real S3 bucket (SeaweedFS), delivered by redirect: the
//! browser follows each image's 302 to a presigned URL of the bucket, and the page's CSP
//! lets exactly that origin show images.

use serde_json::{Value, json};

use super::driver::*;
use super::galleries::upload;

/// The `TEST_S3_*` variable `name`, or `None` (then the test skips, unless CI
/// requires the S3 server).
fn var(name: &str) -> Option<String> {
    std::env::var(format!("TEST_S3_{name}"))
        .ok()
        .filter(|v| !v.is_empty())
}

#[rocket::async_test]
async fn a_redirect_delivered_gallery_shows_its_images_from_the_bucket() -> TestResult {
    let (Some(endpoint), Some(key), Some(secret)) =
        (var("ENDPOINT"), var("ACCESS_KEY"), var("SECRET_KEY"))
    else {
        assert!(
            std::env::var("CI_REQUIRE_S3").as_deref() != Ok("1"),
            "CI_REQUIRE_S3=1 but TEST_S3_ENDPOINT is not set"
        );
        eprintln!("SKIPPED browser S3 test: no S3 server (TEST_S3_ENDPOINT)");
        return Ok(());
    };
    let bucket = var("BUCKET").unwrap_or_else(|| "maiimg".into());
    let prefix = format!("test/browser-{:016x}", rand::random::<u64>());
    let env = [
        ("MAIIMG_STORAGE", "s3"),
        ("MAIIMG_S3_ENDPOINT", endpoint.as_str()),
        ("MAIIMG_S3_BUCKET", bucket.as_str()),
        ("MAIIMG_S3_PREFIX", prefix.as_str()),
        ("MAIIMG_S3_ACCESS_KEY", key.as_str()),
        ("MAIIMG_S3_SECRET_KEY", secret.as_str()),
        ("MAIIMG_S3_PATH_STYLE", "true"),
        ("MAIIMG_DELIVERY", "redirect"),
    ];
    let Some(stage) = Stage::start(&env) else {
        return Ok(());
    };
    let photos: Vec<std::path::PathBuf> = [
        ("harbour.jpg", 1600, 1000, 30),
        ("lighthouse.jpg", 900, 1400, 160),
    ]
    .iter()
    .map(|(name, w, h, hue)| {
        let path = stage.files.path().join(name);
        write_photo(&path, *w, *h, *hue);
        path
    })
    .collect();

    let client = connect(stage.driver_port, false).await?;
    let picked: Vec<&std::path::Path> = photos.iter().map(|p| p.as_path()).collect();
    let (_, share_url) = upload(&client, &stage.base, &picked, "Harbour").await?;

    // A CSP that refused the bucket would leave these images broken (naturalWidth 0).
    open_first_in_lightbox(&client, &share_url).await?;
    // Fetched by the page itself: the image URL answers with a redirect into the bucket.
    let hop: Value = client
        .execute(
            "const src = document.querySelector('#grid img').getAttribute('src');
             return fetch(src, {redirect: 'manual'}).then(r => [r.type, r.status]);",
            vec![],
        )
        .await?;
    assert_eq!(hop, json!(["opaqueredirect", 0]), "a redirect: {hop}");
    save_screenshot(&client, "s3-redirect-lightbox.png").await?;
    client.close().await?;
    Ok(())
}
