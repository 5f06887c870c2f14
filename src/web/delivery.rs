//! `delivery = "redirect"`: which images an admitted viewer gets as a `302` to a presigned
//! URL of the bucket rather than through this server, and the origin the pages' CSP then
//! allows images from.

use crate::blobs::Answer;
use crate::config::Delivery;
use crate::model::{BlobRef, GalleryRecord};
use crate::web::app::App;
use crate::web::blob_response::attachment;

/// Objects are named by their SHA-256, so what a URL returns never changes: the browser
/// may keep it (only for this viewer), and asks this server again for the next URL.
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// Whether a gallery's images go by redirect: `delivery_protected` decides for a gallery
/// with a password or a view limit (a presigned URL works for whoever has it until it
/// expires), `delivery` for the rest.
fn redirects(app: &App, record: &GalleryRecord) -> bool {
    let storage = app.config.storage();
    let settings = &record.settings;
    let protected = settings.password_hash.is_some() || settings.max_opens.is_some();
    let delivery = if protected {
        storage.delivery_protected
    } else {
        storage.delivery
    };
    delivery == Delivery::Redirect
}

/// The presigned URL to send this viewer to for `blob` (an attachment named `download`, or
/// shown inline), or `None` to serve it through this server. Called only once the viewer
/// is admitted (and the open or download noted).
pub fn presigned(
    app: &App,
    record: &GalleryRecord,
    blob: &BlobRef,
    download: Option<&str>,
) -> Option<String> {
    if !redirects(app, record) {
        return None;
    }
    let disposition = download.map_or_else(|| "inline".to_owned(), attachment);
    let answer = Answer {
        content_type: blob.format.mime(),
        disposition: &disposition,
        cache_control: IMMUTABLE,
    };
    let ttl = app.config.storage().presign_ttl;
    app.galleries
        .blobs()
        .presigned_get(&blob.digest, answer, app.clock.now(), ttl)
}

/// The bucket's origin, for the pages' `img-src`, when images may be redirected there.
pub fn image_origin(app: &App) -> Option<String> {
    if app.config.storage().delivery == Delivery::Redirect {
        app.galleries.blobs().presign_origin()
    } else {
        None
    }
}
