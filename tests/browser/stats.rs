//! The owner's statistics in a real browser: two viewers on different devices, image
//! views from the lightbox, and a third open arriving while the page is open.

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::Value;

use super::driver::*;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
    Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";

/// Create a gallery of two photos through the API; (share URL, manage key, id).
fn create(
    base: &str,
    dir: &std::path::Path,
) -> Result<(String, String, String), Box<dyn std::error::Error>> {
    let mut form = reqwest::blocking::multipart::Form::new().text("title", "Garden party");
    for i in 0..2u8 {
        let path = dir.join(format!("party-{i}.jpg"));
        write_photo(&path, 900, 600, 90 * i);
        form = form.part(
            "file",
            reqwest::blocking::multipart::Part::bytes(std::fs::read(&path)?)
                .file_name(format!("party-{i}.jpg")),
        );
    }
    let created: Value = reqwest::blocking::Client::new()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()?
        .json()?;
    let text = |k: &str| created[k].as_str().unwrap_or_default().to_owned();
    Ok((text("share_url"), text("manage_key"), text("id")))
}

async fn stat(client: &fantoccini::Client, name: &str, expected: &str) -> Result<Value, String> {
    let script = format!(
        "const n = document.querySelector('[data-stat={name}]');
         return n !== null && n.textContent.trim() === {expected:?};"
    );
    wait_until(client, &format!("{name} = {expected}"), &script).await
}

#[rocket::async_test]
async fn the_statistics_page_counts_devices_and_image_views_and_updates_live() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let (share_url, key, id) = {
        let (base, dir) = (base.clone(), files.path().to_path_buf());
        rocket::tokio::task::spawn_blocking(move || create(&base, &dir).map_err(|e| e.to_string()))
            .await??
    };

    // A phone that looks at both photos in the lightbox.
    let phone = connect_as(driver_port, true, Some(IPHONE)).await?;
    phone.goto(&share_url).await?;
    images_loaded(&phone, "#grid img").await?;
    phone
        .find(Locator::Css("#grid .tile"))
        .await?
        .click()
        .await?;
    wait_until(
        &phone,
        "the lightbox",
        "return document.getElementById('lightbox').open",
    )
    .await?;
    phone
        .find(Locator::Id("lightbox"))
        .await?
        .send_keys(&Key::Right.to_string())
        .await?;
    wait_until(
        &phone,
        "the second photo",
        "return document.getElementById('lightbox').dataset.index === '1'",
    )
    .await?;
    // A desktop that only opens the gallery.
    let desktop = connect_as(driver_port, false, Some(EDGE)).await?;
    desktop.goto(&share_url).await?;
    images_loaded(&desktop, "#grid img").await?;

    let owner = connect(driver_port, false).await?;
    owner.goto(&format!("{base}/m/{id}/stats#{key}")).await?;
    stat(&owner, "opens", "2").await?;
    stat(&owner, "unique_visitors", "2").await?;
    wait_until(
        &owner,
        "two devices",
        "const rows = [...document.querySelectorAll('.breakdown')]
           .find(f => f.querySelector('figcaption').textContent === 'Devices')
           ?.querySelectorAll('.breakdown-row');
         return rows && rows.length === 2
           && [...rows].map(r => r.querySelector('.breakdown-label').textContent).sort().join() === 'Desktop,Phone';",
    )
    .await?;
    wait_until(
        &owner,
        "both photos viewed once",
        "const items = [...document.querySelectorAll('.engagement li')];
         return items.length === 2 && items.every(li => li.dataset.views === '1');",
    )
    .await?;
    images_loaded(&owner, ".engagement img").await?;
    wait_until(
        &owner,
        "the log",
        "return document.querySelectorAll('#log-rows tr[data-event=open]').length === 2
            && document.querySelectorAll('#log-rows tr[data-event=view]').length === 2",
    )
    .await?;
    phone.close().await?;
    desktop.close().await?;

    // A third viewer arrives while the owner watches: the page updates by itself.
    let marker: Value = owner
        .execute("window.notReloaded = true; return true;", vec![])
        .await?;
    assert_eq!(marker, Value::Bool(true));
    let third = connect_as(driver_port, false, None).await?;
    third.goto(&share_url).await?;
    images_loaded(&third, "#grid img").await?;
    third.close().await?;
    stat(&owner, "opens", "3").await?;
    wait_until(
        &owner,
        "the new open in the log",
        "return window.notReloaded === true
            && document.querySelectorAll('#log-rows tr[data-event=open]').length === 3",
    )
    .await?;
    let status = text_of(&owner, "#stats-status").await?;
    assert!(status.starts_with("Live"), "status says live: {status}");
    save_screenshot(&owner, "stats.png").await?;
    owner.close().await?;
    Ok(())
}
