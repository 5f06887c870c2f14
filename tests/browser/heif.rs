//! An iPhone HEIC through the upload page: accepted by the page's picker, shown upright in
//! the lightbox, and the lightbox's download button offers its JPEG copy.

use std::path::Path;

use fantoccini::Locator;
use serde_json::{Value, json};

use super::driver::*;

#[rocket::async_test]
async fn a_heic_uploads_through_the_page_and_shows_upright_in_the_lightbox() -> TestResult {
    let Some(stage) = Stage::start(&[]) else {
        return Ok(());
    };
    // Stored 4032×3024 landscape; its `irot` makes it the portrait the phone was held in.
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/realworld/heif/iphone_13_pro_max.HEIC");
    if !source.is_file() {
        eprintln!("SKIPPED: {} is missing", source.display());
        return Ok(());
    }
    let photo = stage.files.path().join("IMG_0001.HEIC");
    std::fs::copy(&source, &photo)?;

    let client = connect(stage.driver_port, false).await?;
    client.goto(&stage.base).await?;
    let accept = client
        .find(Locator::Id("file-input"))
        .await?
        .attr("accept")
        .await?
        .unwrap_or_default();
    for kind in [".heic", ".heif", ".avif", "image/heic"] {
        assert!(accept.contains(kind), "the picker offers {kind}: {accept}");
    }
    client
        .find(Locator::Id("file-input"))
        .await?
        .send_keys(&photo.display().to_string())
        .await?;
    wait_until(
        &client,
        "the HEIC upload",
        "return document.querySelectorAll('#file-list li[data-state=done]').length === 1",
    )
    .await?;
    create_gallery(&client).await?;
    let share_url = value_of(&client.find(Locator::Id("share-url")).await?).await?;

    open_first_in_lightbox(&client, &share_url).await?;
    let shown: Value = client
        .execute(
            "const i = document.getElementById('lb-image');
             return [i.naturalWidth, i.naturalHeight,
                     document.getElementById('lb-download').getAttribute('href')];",
            vec![],
        )
        .await?;
    assert_eq!(shown[0], json!(1536), "{shown}");
    assert_eq!(shown[1], json!(2048), "upright: portrait, {shown}");
    let href = shown[2].as_str().unwrap_or_default();
    assert!(
        href.ends_with("/i/0/original.jpg"),
        "the button offers the JPEG: {href}"
    );
    save_screenshot(&client, "heic-lightbox.png").await?;
    client.close().await?;
    Ok(())
}
