//! The access settings form in a real browser, on both pages it appears on: no day ticked
//! means every day, the upload page proposes the browser's time zone, the manage page
//! shows the gallery's stored zone and changes it.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::driver::*;
use super::manage::owner_json;

/// A one-photo gallery with daily hours on Monday and Wednesday, New York time.
async fn gallery_with_hours(base: &str, photo: &std::path::Path) -> Result<Value, String> {
    let (url, bytes) = (
        format!("{base}/api/galleries"),
        std::fs::read(photo).map_err(|e| e.to_string())?,
    );
    rocket::tokio::task::spawn_blocking(move || {
        let form = reqwest::blocking::multipart::Form::new()
            .part(
                "file",
                reqwest::blocking::multipart::Part::bytes(bytes).file_name("photo.jpg"),
            )
            .text("daily_from", "09:00")
            .text("daily_until", "17:00")
            .text("days", "mon,wed")
            .text("timezone", "America/New_York");
        reqwest::blocking::Client::new()
            .post(url)
            .multipart(form)
            .send()
            .and_then(|r| r.json())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The values of the ticked day boxes named `name`.
async fn ticked(client: &Client, name: &str) -> Result<Value, fantoccini::error::CmdError> {
    client
        .execute(
            &format!(
                "return [...document.querySelectorAll('input[name={name}]:checked')].map(b => b.value)"
            ),
            vec![],
        )
        .await
}

/// Untick every ticked day box named `name`, by clicking its label as a person does.
async fn untick_all(client: &Client, name: &str) -> TestResult {
    for day in ticked(client, name)
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let day = day.as_str().unwrap_or_default();
        client
            .find(Locator::Css(&format!(
                "input[name={name}][value={day}] + span"
            )))
            .await?
            .click()
            .await?;
    }
    assert_eq!(ticked(client, name).await?, json!([]));
    Ok(())
}

async fn scroll_to(client: &Client, css: &str) -> TestResult {
    client
        .execute(
            &format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}})"),
            vec![],
        )
        .await?;
    Ok(())
}

async fn status_starts_with(client: &Client, text: &str) -> Result<Value, String> {
    let script =
        format!("return document.getElementById('manage-status').textContent.startsWith({text:?})");
    wait_until(client, &format!("the status {text:?}"), &script).await
}

#[rocket::async_test]
async fn the_manage_page_shows_the_stored_zone_changes_it_and_no_day_means_every_day() -> TestResult
{
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photo = files.path().join("photo.jpg");
    write_photo(&photo, 800, 600, 30);
    let created = gallery_with_hours(&base, &photo).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let key = created["manage_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let client = connect(driver_port, false).await?;
    client.goto(&format!("{base}/m/{id}#{key}")).await?;
    // The gallery's zone, not this browser's (the test browser runs in UTC).
    wait_until(
        &client,
        "the stored time zone",
        "return document.getElementById('set-timezone').value === 'America/New_York'",
    )
    .await?;
    let browser_zone: Value = client
        .execute(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone",
            vec![],
        )
        .await?;
    assert_ne!(browser_zone, json!("America/New_York"));
    assert_eq!(ticked(&client, "set-days").await?, json!(["mon", "wed"]));
    assert_eq!(
        value_of(&client.find(Locator::Id("set-daily-from")).await?).await?,
        "09:00"
    );

    // An unknown zone is named before anything is sent.
    let zone = client.find(Locator::Id("set-timezone")).await?;
    zone.clear().await?;
    zone.send_keys("Mars/Olympus_Mons").await?;
    scroll_to(&client, "#settings-form button[type=submit]").await?;
    client
        .find(Locator::Css("#settings-form button[type=submit]"))
        .await?
        .click()
        .await?;
    status_starts_with(&client, "“Mars/Olympus_Mons” is not a time zone").await?;
    let focused: Value = client
        .execute("return document.activeElement.id", vec![])
        .await?;
    assert_eq!(focused, json!("set-timezone"), "the field is focused");
    let unchanged = owner_json(&base, &id, &key).await?;
    assert_eq!(unchanged["settings"]["timezone"], "America/New_York");

    // Another zone and no day ticked: saved as every day in Tokyo time.
    zone.clear().await?;
    zone.send_keys("Asia/Tokyo").await?;
    untick_all(&client, "set-days").await?;
    scroll_to(&client, "#set-daily-from").await?;
    save_screenshot(&client, "manage-access.png").await?;
    client
        .find(Locator::Css("#settings-form button[type=submit]"))
        .await?
        .click()
        .await?;
    status_starts_with(&client, "Access settings saved").await?;
    let saved = owner_json(&base, &id, &key).await?;
    assert_eq!(saved["settings"]["timezone"], "Asia/Tokyo");
    assert_eq!(saved["settings"]["days"], "mon,tue,wed,thu,fri,sat,sun");
    assert_eq!(saved["settings"]["daily_from"], "09:00");
    assert_eq!(saved["settings"]["daily_until"], "17:00");

    // Loaded again, the page shows what was stored: the new zone, every day ticked.
    client.refresh().await?;
    wait_until(
        &client,
        "the new time zone",
        "return document.getElementById('set-timezone').value === 'Asia/Tokyo'",
    )
    .await?;
    assert_eq!(
        ticked(&client, "set-days").await?,
        json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    );
    let rules = text_of(&client, "#manage-rules").await?;
    assert!(rules.contains("Asia/Tokyo time"), "{rules}");
    client.close().await?;
    Ok(())
}

#[rocket::async_test]
async fn the_upload_page_proposes_the_browsers_zone_and_no_day_means_every_day() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photo = files.path().join("photo.jpg");
    write_photo(&photo, 800, 600, 90);

    let client = connect(driver_port, false).await?;
    // A browser somewhere other than UTC, so its zone cannot be mistaken for the default.
    client
        .issue_cmd(Cdp(json!({
            "cmd": "Emulation.setTimezoneOverride",
            "params": { "timezoneId": "Pacific/Auckland" }
        })))
        .await?;
    client.goto(&base).await?;
    client
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&photo.display().to_string())
        .await?;
    client
        .find(Locator::Css("#options summary"))
        .await?
        .click()
        .await?;
    let proposed: Value = client
        .execute(
            "return [document.getElementById('timezone').value, Intl.DateTimeFormat().resolvedOptions().timeZone]",
            vec![],
        )
        .await?;
    assert_eq!(
        proposed,
        json!(["Pacific/Auckland", "Pacific/Auckland"]),
        "the browser's zone is proposed"
    );
    assert_eq!(
        ticked(&client, "days").await?.as_array().map(Vec::len),
        Some(7)
    );

    // Daily hours with every day unticked: allowed, and stored as every day.
    // Set as values: how a time field takes typed digits depends on the browser's locale.
    client
        .execute(
            "document.getElementById('daily-from').value = '22:00';
             document.getElementById('daily-until').value = '02:00';",
            vec![],
        )
        .await?;
    untick_all(&client, "days").await?;
    scroll_to(&client, "#options fieldset:last-of-type").await?;
    save_screenshot(&client, "upload-options.png").await?;
    wait_until(
        &client,
        "the upload",
        "return document.querySelector('#file-list li[data-state=done]') !== null",
    )
    .await?;
    create_gallery(&client).await?;
    let manage_url = value_of(&client.find(Locator::Id("manage-url")).await?).await?;
    let (path, key) = manage_url.split_once('#').unwrap_or_default();
    let id = path.rsplit('/').next().unwrap_or_default();
    let gallery = owner_json(&base, id, key).await?;
    assert_eq!(gallery["settings"]["days"], "mon,tue,wed,thu,fri,sat,sun");
    assert_eq!(gallery["settings"]["daily_from"], "22:00");
    assert_eq!(gallery["settings"]["daily_until"], "02:00");
    assert_eq!(gallery["settings"]["timezone"], "Pacific/Auckland");
    client.close().await?;
    Ok(())
}
