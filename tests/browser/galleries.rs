//! "My galleries" in a real browser: two galleries uploaded through the upload page are
//! both listed; one is disabled from the list and its link shows the disabled page; an
//! owner key made on the desktop lists them on a phone; the other is deleted from the list.

use std::error::Error;
use std::path::Path;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::driver::*;
use super::manage::{edit_list_is, rename_and_reorder};

/// Upload `photos` through the upload page as a gallery titled `title`; (id, share URL).
pub(crate) async fn upload(
    client: &Client,
    base: &str,
    photos: &[&Path],
    title: &str,
) -> Result<(String, String), Box<dyn Error>> {
    client.goto(base).await?;
    let picked: Vec<String> = photos.iter().map(|p| p.display().to_string()).collect();
    client
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&picked.join("\n"))
        .await?;
    let script = format!(
        "return document.querySelectorAll('#file-list li[data-state=done]').length === {}",
        photos.len()
    );
    wait_until(client, "the uploads", &script).await?;
    client
        .find(Locator::Id("title-input"))
        .await?
        .send_keys(title)
        .await?;
    create_gallery(client).await?;
    let id: Value = client
        .execute(
            "return document.getElementById('result').dataset.galleryId",
            vec![],
        )
        .await?;
    let share_url = value_of(&client.find(Locator::Id("share-url")).await?).await?;
    Ok((id.as_str().unwrap_or_default().to_owned(), share_url))
}

/// Wait until the row of gallery `id` is in `state`.
async fn row_state(client: &Client, id: &str, state: &str) -> Result<Value, String> {
    let script = format!(
        "const r = document.querySelector('#gallery-list li[data-id={id:?}]');
         return r !== null && r.dataset.state === {state:?};"
    );
    wait_until(client, &format!("{id} {state}"), &script).await
}

/// Wait until the list shows `n` rows with every thumbnail loaded.
async fn listed(client: &Client, n: usize) -> Result<Value, String> {
    let script = format!(
        "const rows = document.querySelectorAll('#gallery-list li.gallery-row');
         const imgs = [...document.querySelectorAll('#gallery-list .row-thumb img')];
         return rows.length === {n} && imgs.every(i => i.complete && i.naturalWidth > 0);"
    );
    wait_until(client, &format!("{n} listed galleries"), &script).await
}

async fn body_reason(client: &Client) -> Result<Value, Box<dyn Error>> {
    Ok(client
        .execute("return document.body.dataset.reason || null", vec![])
        .await?)
}

#[rocket::async_test]
async fn my_galleries_lists_two_uploads_disables_one_and_deletes_the_other() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photo = |name: &str, w: u32, h: u32, hue: u8| {
        let path = files.path().join(name);
        write_photo(&path, w, h, hue);
        path
    };
    let garden = photo("garden.jpg", 1600, 1200, 20);
    let beach = [
        photo("beach-1.jpg", 1200, 1600, 140),
        photo("beach-2.jpg", 1400, 900, 200),
    ];

    let client = connect(driver_port, false).await?;
    let (garden_id, garden_url) = upload(&client, &base, &[&garden], "Garden party").await?;
    let (beach_id, beach_url) =
        upload(&client, &base, &[&beach[0], &beach[1]], "Beach day").await?;

    // Both are listed, newest first, with thumbnails, status and links.
    client.goto(&format!("{base}/galleries")).await?;
    listed(&client, 2).await?;
    let rows: Value = client
        .execute(
            "return [...document.querySelectorAll('#gallery-list li.gallery-row')].map(r => [
               r.dataset.id, r.querySelector('.row-title').textContent, r.dataset.state,
               r.querySelector('.row-manage').getAttribute('href').startsWith('/m/' + r.dataset.id + '#'),
               r.querySelector('.row-share').href])",
            vec![],
        )
        .await?;
    assert_eq!(
        rows,
        json!([
            [beach_id, "Beach day", "active", true, beach_url],
            [garden_id, "Garden party", "active", true, garden_url],
        ])
    );
    let meta = text_of(&client, &format!("#row-{beach_id} .row-meta")).await?;
    assert!(
        meta.starts_with("2 photos · 0 opens · never expires"),
        "{meta}"
    );

    // Select one (its title is the checkbox's label) and disable it.
    client
        .find(Locator::Css(&format!("#row-{garden_id} .row-title")))
        .await?
        .click()
        .await?;
    assert_eq!(
        text_of(&client, "#selected-count").await?,
        "1 of 2 selected"
    );
    click(&client, "batch-disable").await?;
    row_state(&client, &garden_id, "disabled").await?;
    wait_until(
        &client,
        "the per-item result",
        "return document.querySelector('#result-list li[data-ok=true]') !== null",
    )
    .await?;
    let result = text_of(&client, "#result-list").await?;
    assert!(
        result.contains("Garden party") && result.contains("disabled"),
        "{result}"
    );
    assert_eq!(
        text_of(&client, &format!("#row-{garden_id} .state")).await?,
        "Disabled"
    );
    row_state(&client, &beach_id, "active").await?;
    assert_eq!(text_of(&client, "#selected-count").await?, "None selected");
    save_screenshot(&client, "galleries.png").await?;

    // Its link now shows the disabled page; the other still opens.
    client.goto(&garden_url).await?;
    assert_eq!(body_reason(&client).await?, json!("disabled"));
    client.goto(&beach_url).await?;
    assert_eq!(text_of(&client, "#gallery-title").await?, "Beach day");

    // An owner key made here lists both on another device (a phone, in dark mode).
    client.goto(&format!("{base}/galleries")).await?;
    listed(&client, 2).await?;
    click(&client, "owner-create").await?;
    wait_until(
        &client,
        "the owner key",
        "return !document.getElementById('owner-current').hidden
           && document.getElementById('galleries-status').textContent.includes('2 galleries')",
    )
    .await?;
    images_loaded(&client, "#owner-qr").await?;
    let owner_key = value_of(&client.find(Locator::Id("owner-key")).await?).await?;
    assert_eq!(owner_key.len(), 32);
    save_screenshot(&client, "galleries-owner.png").await?;
    let saved: Value = client
        .execute("return localStorage.getItem('maiimg.galleries')", vec![])
        .await?;

    let phone = connect(driver_port, true).await?;
    phone
        .goto(&format!("{base}/galleries#owner={owner_key}"))
        .await?;
    wait_until(
        &phone,
        "the offer to use the key",
        "return !document.getElementById('owner-offer').hidden",
    )
    .await?;
    let hash: Value = phone.execute("return location.hash", vec![]).await?;
    assert_eq!(hash, json!(""), "the key leaves the address bar");
    click(&phone, "owner-offer-accept").await?;
    listed(&phone, 2).await?;
    let sources: Value = phone
        .execute(
            "return [...document.querySelectorAll('#gallery-list li')].map(r => [r.dataset.id, r.dataset.state, r.dataset.source])",
            vec![],
        )
        .await?;
    assert_eq!(
        sources,
        json!([
            [beach_id, "active", "owner"],
            [garden_id, "disabled", "owner"]
        ])
    );
    let dark: Value = phone
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches && document.documentElement.scrollWidth <= 390",
            vec![],
        )
        .await?;
    assert_eq!(
        dark,
        json!(true),
        "dark, and no sideways scrolling at 390 px"
    );
    save_screenshot(&phone, "galleries-phone-dark.png").await?;
    images_loaded(&phone, "#owner-qr").await?;
    phone
        .execute(
            "document.getElementById('owner-panel').scrollIntoView()",
            vec![],
        )
        .await?;
    save_screenshot(&phone, "galleries-phone-dark-owner.png").await?;

    // The desktop's keys, imported on the phone, add its manage keys to the same rows.
    let backup = files.path().join("keys.json");
    let entries: Value = serde_json::from_str(saved.as_str().unwrap_or("[]"))?;
    std::fs::write(
        &backup,
        json!({ "format": "maiimg-keys", "version": 1, "galleries": entries }).to_string(),
    )?;
    phone
        .find(Locator::Id("import-file"))
        .await?
        .send_keys(&backup.display().to_string())
        .await?;
    wait_until(
        &phone,
        "the import",
        "return document.getElementById('keys-status').textContent.startsWith('Imported 2 galleries')
           && [...document.querySelectorAll('#gallery-list li')].every(r => r.dataset.source === 'both')",
    )
    .await?;
    phone.close().await?;

    edit_then_delete_the_other_gallery(&client, &base, &beach_id, &beach_url).await?;
    client.close().await?;
    Ok(())
}

/// The second gallery: opened from My galleries, renamed and reordered on its manage page,
/// then deleted from My galleries with the confirmation; its link is gone.
async fn edit_then_delete_the_other_gallery(
    client: &Client,
    base: &str,
    id: &str,
    share_url: &str,
) -> TestResult {
    client.goto(&format!("{base}/galleries")).await?;
    listed(client, 2).await?;
    client
        .find(Locator::Css(&format!("#row-{id} .row-manage")))
        .await?
        .click()
        .await?;
    edit_list_is(client, &["beach-1.jpg", "beach-2.jpg"]).await?;
    rename_and_reorder(client, "Beach day at dusk").await?;
    edit_list_is(client, &["beach-2.jpg", "beach-1.jpg"]).await?;
    client.goto(share_url).await?;
    assert_eq!(
        text_of(client, "#gallery-title").await?,
        "Beach day at dusk"
    );
    client.goto(&format!("{base}/galleries")).await?;
    listed(client, 2).await?;
    let script = format!(
        "return document.querySelector('#row-{id} .row-title')?.textContent === 'Beach day at dusk'"
    );
    wait_until(client, "the new title in My galleries", &script).await?;
    client
        .find(Locator::Id(&format!("select-{id}")))
        .await?
        .click()
        .await?;
    click(client, "batch-delete").await?;
    wait_until(
        client,
        "the confirmation",
        "return document.getElementById('delete-dialog').open",
    )
    .await?;
    assert_eq!(
        text_of(client, "#delete-heading").await?,
        "Delete 1 gallery for good?"
    );
    let names = text_of(client, "#delete-names").await?;
    assert_eq!(names, "Beach day at dusk");
    save_screenshot(client, "galleries-delete.png").await?;
    click(client, "delete-confirm").await?;
    let script = format!(
        "return document.querySelector('#gallery-list li[data-id={id:?}]') === null
           && document.querySelectorAll('#gallery-list li').length === 1"
    );
    wait_until(client, "the row to go", &script).await?;
    let result = text_of(client, "#results-heading").await?;
    assert_eq!(result, "Done: 1 gallery deleted.");
    let saved: Value = client
        .execute(
            "return JSON.parse(localStorage.getItem('maiimg.galleries')).map(g => g.id)",
            vec![],
        )
        .await?;
    assert!(
        !saved.to_string().contains(id),
        "forgotten by this browser: {saved}"
    );
    client.goto(share_url).await?;
    let title: Value = client
        .execute(
            "return document.querySelector('h1') && document.querySelector('h1').textContent",
            vec![],
        )
        .await?;
    assert_eq!(title, json!("Nothing here"), "the link is gone");
    Ok(())
}
