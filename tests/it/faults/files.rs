//! Image files that are damaged on disk or cannot be written.

use super::*;

/// A PNG of noise: incompressible, so `side`² × 3 bytes on disk.
fn noise_png(side: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [a, b, c, ..] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    encode(
        &image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Png,
    )
}

#[test]
fn a_damaged_file_is_never_served_whole() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();
    // A streamed original (over 4 MiB) and a small one read whole.
    let res = post_gallery(
        &base,
        &[("big.png", noise_png(1300)), ("small.png", noise_png(200))],
    );
    assert_eq!(res.status().as_u16(), 201);
    let json: Value = res.json().unwrap();
    let id = json["id"].as_str().unwrap().to_owned();
    let viewer = http();
    assert_eq!(get_with(&viewer, &format!("{base}/g/{id}")).0, 200);
    let path_of = |index: usize| {
        let res = viewer
            .head(format!("{base}/g/{id}/i/{index}/original"))
            .send()
            .unwrap();
        let etag = res.headers()["etag"]
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let file = data
            .path()
            .join("blobs")
            .join(&etag[..2])
            .join(&etag[2..4])
            .join(&etag);
        (etag, file)
    };
    let damaged: Vec<_> = [(0usize, 4_000_000usize), (1, 500)]
        .into_iter()
        .map(|(index, at)| {
            let (etag, file) = path_of(index);
            let mut bytes = std::fs::read(&file).unwrap();
            assert!(bytes.len() > at);
            bytes[at] ^= 0x40;
            std::fs::write(&file, &bytes).unwrap();
            (index, etag, bytes.len())
        })
        .collect();
    // A fresh process: nothing in memory from before the damage.
    server.kill_9();
    let server = Server::start(cwd.path(), data.path(), port);
    let viewer = http();
    assert_eq!(get_with(&viewer, &format!("{}/g/{id}", server.base)).0, 200);
    for (index, etag, len) in damaged {
        let res = viewer
            .get(format!("{base}/g/{id}/i/{index}/original"))
            .send()
            .unwrap();
        let status = res.status().as_u16();
        let body = res.bytes();
        let whole = status == 200 && body.as_ref().is_ok_and(|b| b.len() == len);
        assert!(
            !whole,
            "image {index} ({etag}): the damaged file was served whole"
        );
    }
}

#[test]
fn a_file_that_cannot_be_written_fails_its_upload_alone_with_507() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    // Files up to 512 KiB may be written: the database fits, a large original does not.
    let cmd = maiimg_in_shell(
        "trap '' XFSZ; ulimit -S -f 512",
        cwd.path(),
        data.path(),
        port,
    );
    let server = Server::spawn(cmd, port);
    let base = server.base.clone();
    let before = blob_files(data.path()).len();
    let res = post_gallery(
        &base,
        &[("small.jpg", jpeg(80, 60, 1)), ("big.png", noise_png(600))],
    );
    assert_eq!(res.status().as_u16(), 507);
    let body: Value = res.json().unwrap();
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    // Nothing of the refused gallery stays, and the server goes on.
    assert_eq!(
        blob_files(data.path()).len(),
        before,
        "files of a refused upload were kept"
    );
    let res = post_gallery(&base, &[("small.jpg", jpeg(80, 60, 2))]);
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(
        health(&base, "/readyz").0,
        200,
        "a failed file write is not a failed database"
    );
}
