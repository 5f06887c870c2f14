//! A private instance with a small upload allowance, as a person meets it on the upload
//! page: the password is asked for and remembered for the tab, a wrong one is said so and
//! costs no photo, and the rate limit's message appears on the file it stopped.

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use super::driver::*;

const PASSWORD: &str = "letmein-2026";

async fn file_states(client: &Client) -> Result<Vec<String>, String> {
    let value = client
        .execute(
            "return [...document.querySelectorAll('#file-list li.file')].map(li => li.dataset.state);",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// Type into the password field and leave it, as a person does.
async fn enter_password(client: &Client, password: &str) -> TestResult {
    let field = client.find(Locator::Id("upload-password")).await?;
    field.clear().await?;
    field.send_keys(&format!("{password}{}", Key::Tab)).await?;
    Ok(())
}

#[rocket::async_test]
async fn a_private_instance_asks_for_the_password_and_shows_the_rate_limit() -> TestResult {
    let Some(stage) = Stage::start(&[
        ("MAIIMG_UPLOAD_PASSWORD", PASSWORD),
        ("MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR", "2"),
    ]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photos: Vec<String> = (0..3)
        .map(|i| {
            let path = files.path().join(format!("p{i}.jpg"));
            write_photo(&path, 900, 600, 50 * i as u8);
            path.display().to_string()
        })
        .collect();

    let client = connect(driver_port, false).await?;
    client.goto(&base).await?;
    // Without the password nothing is sent: the photo waits and the page says why.
    client
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&photos[0])
        .await?;
    wait_until(
        &client,
        "the request for the password",
        "return document.getElementById('picker-message').textContent.includes('upload password')",
    )
    .await?;
    assert_eq!(file_states(&client).await?, ["queued"]);

    // A wrong one is refused, and said so.
    enter_password(&client, "not-it").await?;
    wait_until(
        &client,
        "the refusal",
        "return document.querySelector('#file-list li[data-state=error]') !== null",
    )
    .await?;
    let status = text_of(&client, "#file-list li .file-status").await?;
    assert!(status.contains("not right"), "{status}");

    // The right one sends it again.
    enter_password(&client, PASSWORD).await?;
    wait_until(
        &client,
        "the upload",
        "return document.querySelector('#file-list li[data-state=done]') !== null",
    )
    .await?;

    // Two more photos: the allowance of two lets one through and stops the other, saying
    // when to try again.
    client
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&photos[1..].join("\n"))
        .await?;
    wait_until(
        &client,
        "both verdicts",
        "const s = [...document.querySelectorAll('#file-list li.file')].map(li => li.dataset.state);
         return s.length === 3 && !s.includes('queued') && !s.includes('uploading');",
    )
    .await?;
    let mut states = file_states(&client).await?;
    states.sort();
    assert_eq!(states, ["done", "done", "error"]);
    let refused = text_of(&client, "#file-list li[data-state=error] .file-status").await?;
    assert!(
        refused.contains("too many uploads") && refused.contains("try again in"),
        "{refused}"
    );
    save_screenshot(&client, "upload-rate-limited.png").await?;

    // The gallery is made from the two accepted photos (the creation carries the password
    // too), and the tab remembers the password.
    client
        .find(Locator::Css(
            "#file-list li[data-state=error] button.remove",
        ))
        .await?
        .click()
        .await?;
    create_gallery(&client).await?;
    let share = value_of(&client.find(Locator::Id("share-url")).await?).await?;
    assert!(share.starts_with(&format!("{base}/g/")), "{share}");
    client.goto(&base).await?;
    let remembered = value_of(&client.find(Locator::Id("upload-password")).await?).await?;
    assert_eq!(remembered, PASSWORD);
    client.close().await?;
    Ok(())
}

#[rocket::async_test]
async fn the_admin_signs_in_and_takes_a_gallery_down() -> TestResult {
    const TOKEN: &str = "browser-admin-token-2026";
    let Some(stage) = Stage::start(&[("MAIIMG_ADMIN_TOKEN", TOKEN)]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let mut ids = Vec::new();
    for i in 0..3u8 {
        let path = files.path().join(format!("a{i}.jpg"));
        write_photo(&path, 800 + u32::from(i) * 100, 600, 70 * i);
        let part = reqwest::multipart::Part::bytes(std::fs::read(&path)?).file_name("a.jpg");
        let form = reqwest::multipart::Form::new()
            .text("title", format!("Event {i}"))
            .part("file", part);
        let created: serde_json::Value = reqwest::Client::new()
            .post(format!("{base}/api/galleries"))
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        ids.push(created["id"].as_str().unwrap_or_default().to_owned());
    }

    let client = connect(driver_port, false).await?;
    client.goto(&format!("{base}/admin")).await?;
    // Sent to the sign-in form; the token opens the dashboard.
    let field = client.find(Locator::Id("admin-token")).await?;
    field.send_keys(&format!("{TOKEN}{}", Key::Enter)).await?;
    wait_until(
        &client,
        "the dashboard",
        "return document.getElementById('galleries') !== null",
    )
    .await?;
    let rows = client.find_all(Locator::Css("#galleries tbody tr")).await?;
    assert_eq!(rows.len(), 3);

    // Disable one: the dashboard says so and its link shows the disabled page.
    let target = &ids[1];
    client
        .find(Locator::Css(&format!(
            "tr[data-gallery='{target}'] button[data-action=disable]"
        )))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the flash",
        "return document.getElementById('flash') !== null",
    )
    .await?;
    assert!(text_of(&client, "#flash").await?.contains("Disabled"));
    save_screenshot(&client, "admin.png").await?;
    client.goto(&format!("{base}/g/{target}")).await?;
    let reason = client
        .execute("return document.body.dataset.reason", vec![])
        .await?;
    assert_eq!(reason, serde_json::json!("disabled"));

    // Delete another, confirming.
    client.goto(&format!("{base}/admin")).await?;
    let gone = &ids[2];
    let row = format!("tr[data-gallery='{gone}']");
    client
        .find(Locator::Css(&format!("{row} input[name=confirm]")))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css(&format!("{row} button[data-action=delete]")))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "the deletion",
        "return (document.getElementById('flash') || {}).textContent?.includes('Deleted')",
    )
    .await?;
    assert_eq!(
        client
            .find_all(Locator::Css("#galleries tbody tr"))
            .await?
            .len(),
        2
    );
    save_screenshot(&client, "admin-deleted.png").await?;
    client.goto(&format!("{base}/g/{gone}")).await?;
    let status = client
        .execute(
            "return document.querySelector('main').dataset.status",
            vec![],
        )
        .await?;
    assert_eq!(status, serde_json::json!("404"));
    client.close().await?;
    Ok(())
}
