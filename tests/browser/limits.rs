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
