//! CSS, JavaScript and icons compiled into the binary from `assets/`.

use rust_embed::RustEmbed;

/// The embedded `assets/` folder.
#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// `/assets/<path>?v=<hash>`: pages link with the content hash, so the file can be cached
/// for a year and a new build is still fetched at once.
pub fn url(path: &str) -> String {
    match Assets::get(path) {
        Some(file) => {
            let hash = data_encoding::HEXLOWER.encode(&file.metadata.sha256_hash()[..6]);
            format!("/assets/{path}?v={hash}")
        }
        None => format!("/assets/{path}"),
    }
}
