//! The manage page's edit forms in a real browser: title, caption, reorder by keyboard and
//! by drag and drop, access settings, add and remove a photo, the poster, and delete.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::driver::*;

/// The gallery as its owner's API returns it.
pub async fn owner_json(
    base: &str,
    id: &str,
    key: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let (url, key) = (format!("{base}/api/galleries/{id}"), key.to_owned());
    let json = rocket::tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new()
            .get(url)
            .bearer_auth(key)
            .send()
            .and_then(|r| r.json::<Value>())
            .map_err(|e| e.to_string())
    })
    .await??;
    Ok(json)
}

/// Image names in gallery order.
pub fn names(gallery: &Value) -> Vec<String> {
    gallery["images"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Wait until the edit list shows these names in this order.
pub async fn edit_list_is(client: &Client, expected: &[&str]) -> Result<Value, String> {
    let script = format!(
        "return JSON.stringify([...document.querySelectorAll('#edit-images li')].map(li => li.dataset.name)) === {:?};",
        serde_json::to_string(expected).unwrap_or_default()
    );
    match wait_until(client, &format!("photos in order {expected:?}"), &script).await {
        Ok(value) => Ok(value),
        // Say what the page showed instead: a wrong order and an empty list (the gallery did
        // not load) need different fixes.
        Err(e) => {
            let seen = client
                .execute(
                    "return [location.pathname, document.body.innerText.slice(0, 600),
                             [...document.querySelectorAll('#edit-images li')].map(li => li.dataset.name)]",
                    vec![],
                )
                .await
                .map_or_else(|e| e.to_string(), |v| v.to_string());
            Err(format!("{e}; the page showed {seen}"))
        }
    }
}

/// On an open manage page: rename the gallery and move its first photo down by keyboard.
pub async fn rename_and_reorder(client: &Client, title: &str) -> TestResult {
    let input = client.find(Locator::Id("edit-title")).await?;
    input.clear().await?;
    input.send_keys(title).await?;
    client
        .find(Locator::Css("#title-form button"))
        .await?
        .click()
        .await?;
    let script =
        format!("return document.getElementById('manage-title').textContent === {title:?}");
    wait_until(client, "the new title", &script).await?;
    let first = client
        .execute(
            "return document.querySelector('#edit-images li').dataset.name",
            vec![],
        )
        .await?;
    let down = client
        .find(Locator::Css("#edit-images li:first-child [data-move=down]"))
        .await?;
    // Keyboard: focus the button and press Enter, as a keyboard user does.
    client
        .execute(
            "document.querySelector('#edit-images li:first-child [data-move=down]').focus()",
            vec![],
        )
        .await?;
    down.send_keys("\u{E007}").await?;
    let script = format!(
        "return document.querySelectorAll('#edit-images li')[1]?.dataset.name === {first}",
    );
    wait_until(client, "the first photo moved down", &script).await?;
    Ok(())
}

#[rocket::async_test]
async fn the_owner_edits_everything_from_the_manage_page() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let mut paths = Vec::new();
    for (i, name) in ["alpha.jpg", "beta.jpg", "gamma.jpg", "delta.jpg"]
        .iter()
        .enumerate()
    {
        let path = files.path().join(name);
        write_photo(&path, 800, 600, 60 * i as u8);
        paths.push(path);
    }
    let created: Value = {
        let (url, paths) = (format!("{base}/api/galleries"), paths[..3].to_vec());
        rocket::tokio::task::spawn_blocking(move || -> Result<Value, String> {
            let mut form = reqwest::blocking::multipart::Form::new();
            for path in paths {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
                form = form.part(
                    "file",
                    reqwest::blocking::multipart::Part::bytes(bytes).file_name(name),
                );
            }
            reqwest::blocking::Client::new()
                .post(url)
                .multipart(form)
                .send()
                .and_then(|r| r.json())
                .map_err(|e| e.to_string())
        })
        .await??
    };
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let key = created["manage_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let client = connect(driver_port, false).await?;
    client.goto(&format!("{base}/m/{id}#{key}")).await?;
    edit_list_is(&client, &["alpha.jpg", "beta.jpg", "gamma.jpg"]).await?;
    images_loaded(&client, "#edit-images img").await?;
    wait_until(
        &client,
        "the statistics on the manage page",
        "return document.querySelector('#manage-stats-panel [data-stat=opens]')?.textContent === '0'",
    )
    .await?;

    rename_and_reorder(&client, "Garden party").await?;
    edit_list_is(&client, &["beta.jpg", "alpha.jpg", "gamma.jpg"]).await?;

    // Drag and drop: gamma onto the first place (the events a mouse drag fires).
    client
        .execute(
            "const items = document.querySelectorAll('#edit-images li');
             const dt = new DataTransfer();
             items[2].dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt }));
             items[0].dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
             items[0].dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
             items[2].dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: dt }));",
            vec![],
        )
        .await?;
    edit_list_is(&client, &["gamma.jpg", "beta.jpg", "alpha.jpg"]).await?;

    // A caption, saved when the field loses focus.
    let caption = client
        .find(Locator::Css("#edit-images li:first-child input"))
        .await?;
    caption.send_keys("Under the apple tree").await?;
    client
        .find(Locator::Id("edit-title"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the caption saved",
        "return document.getElementById('manage-status').textContent === 'Caption saved.'",
    )
    .await?;

    // Access: a view limit of 7 and downloads off.
    client
        .find(Locator::Id("set-max-opens"))
        .await?
        .send_keys("7")
        .await?;
    client
        .find(Locator::Id("set-download"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("#settings-form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the settings saved",
        "return document.getElementById('manage-status').textContent.startsWith('Access settings saved')",
    )
    .await?;

    // Add a photo through the file picker, then remove the first one.
    client
        .find(Locator::Id("add-files"))
        .await?
        .send_keys(&paths[3].display().to_string())
        .await?;
    edit_list_is(
        &client,
        &["gamma.jpg", "beta.jpg", "alpha.jpg", "delta.jpg"],
    )
    .await?;
    client
        .find(Locator::Css("[data-remove='0']"))
        .await?
        .click()
        .await?;
    client.accept_alert().await?;
    edit_list_is(&client, &["beta.jpg", "alpha.jpg", "delta.jpg"]).await?;
    images_loaded(&client, "#edit-images img").await?;

    let gallery = owner_json(&base, &id, &key).await?;
    assert_eq!(gallery["title"], "Garden party");
    assert_eq!(names(&gallery), ["beta.jpg", "alpha.jpg", "delta.jpg"]);
    assert_eq!(gallery["settings"]["max_opens"], 7);
    assert_eq!(gallery["settings"]["allow_download"], false);
    let captions: Vec<&str> = gallery["images"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["caption"].as_str().unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        captions,
        ["", "", ""],
        "the captioned photo was the one removed"
    );
    client.execute("window.scrollTo(0, 0)", vec![]).await?;
    save_screenshot(&client, "manage.png").await?;

    // The viewer sees the new title and order at once.
    let viewer = connect(driver_port, true).await?;
    viewer.goto(&format!("{base}/g/{id}")).await?;
    let title = text_of(&viewer, "#gallery-title").await?;
    assert_eq!(title, "Garden party");
    images_loaded(&viewer, "#grid img").await?;
    let downloads: Value = viewer
        .execute(
            "return document.querySelectorAll('#download-all, #lb-download').length",
            vec![],
        )
        .await?;
    assert_eq!(downloads, json!(0));
    viewer.close().await?;

    // The printable poster: title, QR code, link and the rules in words.
    client.goto(&format!("{base}/g/{id}/poster")).await?;
    let poster = text_of(&client, ".poster-sheet").await?;
    assert!(poster.contains("Garden party"), "{poster}");
    assert!(poster.contains(&format!("/g/{id}")), "{poster}");
    assert!(poster.contains("Can be opened by 7 people."), "{poster}");
    assert!(poster.contains("View only: no downloads."), "{poster}");
    save_screenshot(&client, "poster.png").await?;

    // Delete, confirmed: the link is gone.
    client.goto(&format!("{base}/m/{id}#{key}")).await?;
    edit_list_is(&client, &["beta.jpg", "alpha.jpg", "delta.jpg"]).await?;
    client
        .find(Locator::Id("delete-button"))
        .await?
        .click()
        .await?;
    client.accept_alert().await?;
    wait_until(
        &client,
        "the deletion",
        "return document.getElementById('manage-status').textContent.startsWith('The gallery was deleted')",
    )
    .await?;
    client.goto(&format!("{base}/g/{id}")).await?;
    let heading = text_of(&client, "h1").await?;
    assert!(
        heading.to_lowercase().contains("not") || heading.to_lowercase().contains("no "),
        "{heading}"
    );
    client.close().await?;
    Ok(())
}
