//! What a person does in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven through WebDriver against the real binary.
//!
//! Skips with a visible message when Chromium is not installed, unless
//! `CI_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing browser is a failure.

#[path = "browser/access.rs"]
mod access;
#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/galleries.rs"]
mod galleries;
#[path = "browser/heif.rs"]
mod heif;
#[path = "browser/instance.rs"]
mod instance;
// Not every launcher the integration tests use is needed here.
#[allow(dead_code)]
#[path = "it/common/launch.rs"]
mod launch;
#[path = "browser/limits.rs"]
mod limits;
#[path = "browser/manage.rs"]
mod manage;
#[path = "browser/s3.rs"]
mod s3;
#[path = "browser/stats.rs"]
mod stats;

use std::path::PathBuf;

use driver::*;
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};

#[rocket::async_test]
async fn upload_share_and_view_in_a_real_browser() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photos: Vec<PathBuf> = (0..2)
        .map(|i| {
            let path = files.path().join(format!("photo-{i}.jpg"));
            write_photo(&path, 1600 - i * 400, 1200, 40 * i as u8);
            path
        })
        .collect();
    let fake = files.path().join("not-a-photo.jpg");
    std::fs::write(&fake, "<svg xmlns='http://www.w3.org/2000/svg'></svg>")?;

    let client = connect(driver_port, false).await?;
    client.goto(&base).await?;
    let input = client.find(Locator::Id("file-input")).await?;
    // Two photos and one impostor through the file picker …
    let picked: Vec<String> = photos
        .iter()
        .chain([&fake])
        .map(|p| p.display().to_string())
        .collect();
    input.send_keys(&picked.join("\n")).await?;
    // … and a third photo dropped onto the page.
    let dropped = files.path().join("dropped.jpg");
    write_photo(&dropped, 900, 1400, 120);
    drop_file(&client, "dropped.jpg", &std::fs::read(&dropped)?).await?;

    let items = client.find_all(Locator::Css("#file-list li.file")).await?;
    assert_eq!(items.len(), 4, "one row per file");
    assert_eq!(
        client
            .find_all(Locator::Css("#file-list progress"))
            .await?
            .len(),
        4,
        "one progress bar per file"
    );
    wait_until(
        &client,
        "three uploads done and one refused",
        "const s = [...document.querySelectorAll('#file-list li')].map(li => li.dataset.state);
         return s.filter(x => x === 'done').length === 3 && s.includes('error');",
    )
    .await?;
    let bars: Value = client
        .execute(
            "return [...document.querySelectorAll('#file-list li[data-state=done] progress')].map(p => p.value)",
            vec![],
        )
        .await?;
    assert_eq!(bars, json!([100, 100, 100]), "every progress bar finished");
    let refusal = text_of(&client, "#file-list li[data-state=error] .file-status").await?;
    assert!(
        refusal.contains("not an accepted image") && refusal.contains("JPEG, PNG, GIF, WebP"),
        "the refused file says why: {refusal}"
    );
    let thumbs_loaded = wait_until(
        &client,
        "server thumbnails",
        "return [...document.querySelectorAll('#file-list li[data-state=done] img')]
           .every(i => i.src.includes('/api/uploads/') && i.complete && i.naturalWidth > 0);",
    )
    .await?;
    assert_eq!(thumbs_loaded, json!(true));
    save_screenshot(&client, "upload-progress.png").await?;

    // The impostor is removed; it must not sink the others.
    client
        .find(Locator::Css("#file-list li[data-state=error] .remove"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Id("title-input"))
        .await?
        .send_keys("Garden party")
        .await?;
    // Access options: the link expires after a day.
    client
        .find(Locator::Css("#options summary"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("#expires-in option[value='86400']"))
        .await?
        .click()
        .await?;
    create_gallery(&client).await?;
    let share_url = value_of(&client.find(Locator::Id("share-url")).await?).await?;
    let manage_url = value_of(&client.find(Locator::Id("manage-url")).await?).await?;
    assert!(share_url.starts_with(&format!("{base}/g/")), "{share_url}");
    assert!(manage_url.starts_with(&format!("{base}/m/")) && manage_url.contains('#'));
    wait_until(
        &client,
        "the QR code",
        "const q = document.getElementById('qr-image'); return q.complete && q.naturalWidth > 100;",
    )
    .await?;
    let saved: Value = client
        .execute(
            "return JSON.parse(localStorage.getItem('maiimg.galleries'))[0].manage_url",
            vec![],
        )
        .await?;
    assert_eq!(
        saved,
        json!(manage_url),
        "the manage link is kept in this browser"
    );
    click(&client, "copy-share").await?;
    // The clipboard answers asynchronously; the button shows the outcome when it does.
    let copied = wait_until(
        &client,
        "the copy button's feedback",
        "const b = document.getElementById('copy-share');
         return b.classList.contains('copied') && b.textContent;",
    )
    .await?;
    let copied = copied.as_str().unwrap_or_default();
    assert!(
        copied.starts_with("Copied"),
        "copy button confirms: {copied}"
    );
    save_screenshot(&client, "result.png").await?;

    // The share link opens the gallery.
    client.goto(&share_url).await?;
    assert_eq!(text_of(&client, "#gallery-title").await?, "Garden party");
    let tiles = client.find_all(Locator::Css("#grid .tile img")).await?;
    assert_eq!(tiles.len(), 3);
    images_loaded(&client, "#grid img").await?;
    save_screenshot(&client, "viewer.png").await?;

    // Lightbox: open, arrows, buttons, wrap-around, Esc.
    click(&client, "tile-0").await?;
    wait_until(
        &client,
        "the lightbox",
        "return document.getElementById('lightbox').open",
    )
    .await?;
    wait_until(
        &client,
        "the display image",
        "const i = document.getElementById('lb-image'); return i.complete && i.naturalWidth > 0 && i.src.endsWith('/i/0/display');",
    )
    .await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "1 / 3");
    let dialog = client.find(Locator::Id("lightbox")).await?;
    dialog.send_keys(&Key::Right.to_string()).await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "2 / 3");
    click(&client, "lb-next").await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "3 / 3");
    images_loaded(&client, "#lb-image").await?;
    save_screenshot(&client, "lightbox.png").await?;
    dialog.send_keys(&Key::Right.to_string()).await?;
    assert_eq!(
        text_of(&client, "#lb-counter").await?,
        "1 / 3",
        "wraps around"
    );
    dialog.send_keys(&Key::Left.to_string()).await?;
    assert_eq!(text_of(&client, "#lb-counter").await?, "3 / 3");
    dialog.send_keys(&Key::Escape.to_string()).await?;
    wait_until(
        &client,
        "the lightbox to close",
        "return !document.getElementById('lightbox').open",
    )
    .await?;

    // The manage link opens the owner's page with the key from its fragment.
    client.goto(&manage_url).await?;
    wait_until(
        &client,
        "the manage panel",
        "return !document.getElementById('manage-panel').hidden",
    )
    .await?;
    assert_eq!(text_of(&client, "#manage-title").await?, "Garden party");
    let rules = text_of(&client, "#manage-rules").await?;
    assert!(
        rules.starts_with("Expires"),
        "the chosen expiry is shown: {rules}"
    );
    assert_eq!(text_of(&client, "#manage-state").await?, "Active");
    save_screenshot(&client, "manage.png").await?;

    // One click turns the link off; the viewer is told why; one click turns it back on.
    click(&client, "toggle-enabled").await?;
    manage_state(&client, "disabled").await?;
    client.goto(&share_url).await?;
    let reason: Value = client
        .execute("return document.body.dataset.reason", vec![])
        .await?;
    assert_eq!(reason, json!("disabled"));
    save_screenshot(&client, "disabled.png").await?;
    client.goto(&manage_url).await?;
    wait_until(
        &client,
        "the manage panel",
        "return !document.getElementById('manage-panel').hidden",
    )
    .await?;
    click(&client, "toggle-enabled").await?;
    manage_state(&client, "active").await?;
    client.goto(&share_url).await?;
    assert_eq!(text_of(&client, "#gallery-title").await?, "Garden party");
    client.close().await?;

    // The same pages on a phone, in dark mode.
    let phone = connect(driver_port, true).await?;
    phone.goto(&share_url).await?;
    let dark: Value = phone
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await?;
    assert_eq!(dark, json!(true), "dark mode is emulated");
    images_loaded(&phone, "#grid img").await?;
    let columns: Value = phone
        .execute(
            "return getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length",
            vec![],
        )
        .await?;
    assert_eq!(columns, json!(3), "three columns on a phone");
    save_screenshot(&phone, "viewer-phone-dark.png").await?;
    phone.goto(&base).await?;
    save_screenshot(&phone, "upload-phone-dark.png").await?;
    phone.close().await?;
    Ok(())
}
