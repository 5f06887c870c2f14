//! Access control as an uploader sets it and as viewers meet it: a view limit of two with
//! downloads off, opened from fresh browsers.

use fantoccini::Locator;
use serde_json::{Value, json};

use super::driver::*;

#[rocket::async_test]
async fn a_view_limit_of_two_admits_two_browsers_and_the_third_sees_the_limit_page() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let photo = files.path().join("proof.jpg");
    write_photo(&photo, 1200, 900, 60);

    let owner = connect(driver_port, false).await?;
    owner.goto(&base).await?;
    owner
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&photo.display().to_string())
        .await?;
    wait_until(
        &owner,
        "the upload",
        "return document.querySelector('#file-list li[data-state=done]') !== null",
    )
    .await?;
    owner
        .find(Locator::Css("#options summary"))
        .await?
        .click()
        .await?;
    owner
        .find(Locator::Id("max-opens"))
        .await?
        .send_keys("2")
        .await?;
    click(&owner, "allow-download").await?;
    create_gallery(&owner).await?;
    let share_url = value_of(&owner.find(Locator::Id("share-url")).await?).await?;
    owner.close().await?;

    for viewer_number in 1..=2 {
        // A fresh browser profile each time: no cookies, a new viewer.
        let viewer = connect(driver_port, false).await?;
        viewer.goto(&share_url).await?;
        let grid = viewer.find_all(Locator::Css("#grid .tile")).await?;
        assert_eq!(grid.len(), 1, "viewer {viewer_number} sees the gallery");
        let downloads: Value = viewer
            .execute(
                "return [document.querySelector('main').dataset.downloads,
                         document.querySelectorAll('#download-all, #lb-download, [download]').length]",
                vec![],
            )
            .await?;
        assert_eq!(downloads, json!(["off", 0]), "no download button anywhere");
        grid[0].click().await?;
        images_loaded(&viewer, "#lb-image").await?;
        viewer.close().await?;
    }

    let third = connect(driver_port, false).await?;
    third.goto(&share_url).await?;
    let reason: Value = third
        .execute("return document.body.dataset.reason", vec![])
        .await?;
    assert_eq!(
        reason,
        json!("limit"),
        "the third viewer is told the limit is reached"
    );
    assert!(third.find_all(Locator::Css("#grid")).await?.is_empty());
    save_screenshot(&third, "limit.png").await?;
    third.close().await?;
    Ok(())
}

/// An iPhone hands over a Live Photo as its still and a video of the same name: the still
/// is uploaded, the video is left out of the batch with a note instead of failing it.
#[rocket::async_test]
async fn a_live_photos_video_is_left_out_of_the_batch_with_a_note() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    let (driver_port, base, files) = (stage.driver_port, stage.base.clone(), &stage.files);
    let still = files.path().join("IMG_0042.jpg");
    write_photo(&still, 800, 600, 120);
    let motion = files.path().join("IMG_0042.MOV");
    std::fs::write(&motion, b"\0\0\0\x14ftypqt  \0\0\0\0qt  \0\0\0\x08free")?;
    let lone = files.path().join("holiday.mov");
    std::fs::write(&lone, b"\0\0\0\x14ftypqt  \0\0\0\0qt  \0\0\0\x08free")?;

    let browser = connect(driver_port, false).await?;
    browser.goto(&base).await?;
    let paths = [&still, &motion, &lone].map(|p| p.display().to_string());
    browser
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&paths.join("\n"))
        .await?;
    wait_until(
        &browser,
        "the still's upload",
        "return document.querySelector('#file-list li[data-state=done]') !== null",
    )
    .await?;
    let note = text_of(&browser, "#picker-message").await?;
    assert_eq!(
        note, "The motion of Live Photos is not kept: IMG_0042.MOV was left out.",
        "the note names the video"
    );
    // The still and the lone video are in the list; only the video that belongs to a
    // still was left out (the lone one is refused by the server, as any video is).
    let listed: Value = browser
        .execute(
            "return [...document.querySelectorAll('#file-list li')].map((li) => li.textContent)",
            vec![],
        )
        .await?;
    let listed = listed.to_string();
    assert!(
        listed.contains("IMG_0042.jpg") && listed.contains("holiday.mov"),
        "{listed}"
    );
    assert!(!listed.contains("IMG_0042.MOV"), "{listed}");
    save_screenshot(&browser, "live-photo.png").await?;
    create_gallery(&browser).await?;
    browser.close().await?;
    Ok(())
}
