//! The JSON the API answers with that more than one endpoint shares (a gallery as its
//! owner sees it, its images), and the one way a JSON request body is read. Types used by a
//! single endpoint live beside it.

use rocket::serde::json::Json;
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::access::GalleryState;
use crate::domain::settings::{clock_text, days_text};
use crate::ids::GalleryId;
use crate::model::{GalleryRecord, ImageRecord, MediaFormat, Settings};
use crate::web::app::App;
use crate::web::error::WebError;

/// A JSON request body, or why it could not be read.
pub type Body<'r, T> = Result<Json<T>, rocket::serde::json::Error<'r>>;

/// The body's value, or a 400 that says what is wrong with it.
pub fn parsed<T>(body: Body<'_, T>) -> Result<T, WebError> {
    body.map(Json::into_inner)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))
}

/// One image of a gallery.
#[derive(Serialize)]
pub struct ImageJson {
    index: usize,
    name: String,
    width: u32,
    height: u32,
    format: MediaFormat,
    bytes: u64,
    animated: bool,
    caption: String,
    thumb_url: String,
    display_url: String,
    /// The full-resolution JPEG of a HEIC/AVIF original (served when downloads are on).
    #[serde(skip_serializing_if = "Option::is_none")]
    original_jpg_url: Option<String>,
}

/// Every image of gallery `id`, with the URLs of its renditions.
pub fn images_json(app: &App, id: &GalleryId, images: &[ImageRecord]) -> Vec<ImageJson> {
    images
        .iter()
        .enumerate()
        .map(|(index, image)| ImageJson {
            index,
            name: image.name.clone(),
            width: image.original.width,
            height: image.original.height,
            format: image.original.format,
            bytes: image.original.bytes,
            animated: image.animated,
            caption: image.caption.clone(),
            thumb_url: format!("{}/g/{id}/i/{index}/thumb", app.config.public_url()),
            display_url: format!("{}/g/{id}/i/{index}/display", app.config.public_url()),
            original_jpg_url: image
                .download
                .as_ref()
                .map(|_| format!("{}/g/{id}/i/{index}/original.jpg", app.config.public_url())),
        })
        .collect()
}

#[derive(Serialize)]
struct SettingsJson {
    enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    available_from: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    available_until: Option<OffsetDateTime>,
    daily_from: Option<String>,
    daily_until: Option<String>,
    days: Option<String>,
    timezone: String,
    max_opens: Option<u64>,
    allow_download: bool,
    /// Whether a password is set (the password itself is not stored).
    password: bool,
}

impl From<&Settings> for SettingsJson {
    fn from(s: &Settings) -> Self {
        SettingsJson {
            enabled: s.enabled,
            expires_at: s.expires_at,
            available_from: s.available_from,
            available_until: s.available_until,
            daily_from: s.daily.map(|w| clock_text(w.from)),
            daily_until: s.daily.map(|w| clock_text(w.until)),
            days: s.daily.map(|w| days_text(w.days)),
            timezone: s.timezone.clone(),
            max_opens: s.max_opens,
            allow_download: s.allow_download,
            password: s.password_hash.is_some(),
        }
    }
}

#[derive(Serialize)]
struct CountersJson {
    opens: u64,
}

#[derive(Serialize)]
pub struct GalleryJson {
    id: String,
    title: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    share_url: String,
    qr_png_url: String,
    qr_svg_url: String,
    state: GalleryState,
    #[serde(with = "time::serde::rfc3339::option")]
    opens_at: Option<OffsetDateTime>,
    settings: SettingsJson,
    counters: CountersJson,
    bytes: u64,
    images: Vec<ImageJson>,
    /// Switched off by the administrator: the owner cannot switch it on.
    taken_down: bool,
}

pub fn gallery_json(app: &App, id: &GalleryId, record: &GalleryRecord, opens: u64) -> GalleryJson {
    let share_url = app.share_url(id);
    let (state, opens_at) = GalleryState::with_opening(&record.settings, opens, app.clock.now());
    GalleryJson {
        id: id.to_string(),
        title: record.title.clone(),
        created_at: record.created_at,
        qr_png_url: format!("{share_url}/qr.png"),
        qr_svg_url: format!("{share_url}/qr.svg"),
        share_url,
        state,
        opens_at,
        settings: SettingsJson::from(&record.settings),
        counters: CountersJson { opens },
        bytes: record.original_bytes(),
        images: images_json(app, id, &record.images),
        taken_down: record.taken_down,
    }
}
