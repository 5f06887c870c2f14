//! The image formats maiimg accepts and serves, as stored in every record.

use serde::{Deserialize, Serialize};

/// The image formats maiimg accepts and serves. Anything else is refused at upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaFormat {
    /// JPEG (baseline or progressive).
    Jpeg,
    /// PNG, including APNG (animation kept in the display rendition).
    Png,
    /// GIF, animation kept in the display rendition.
    Gif,
    /// WebP, lossy or lossless, still or animated (animation kept in the display rendition).
    Webp,
    /// HEIC/HEIF (HEVC in the HEIF container), as iPhones save photos. Stored as `"heic"`:
    /// a new name, so records written before it existed read as they always did.
    Heic,
    /// AVIF (AV1 in the HEIF container).
    Avif,
}

impl MediaFormat {
    /// Every accepted format, for error messages and the upload page.
    pub const ACCEPTED: [MediaFormat; 6] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Heic,
        Self::Avif,
    ];

    /// The MIME type served in `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
            Self::Avif => "image/avif",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Heic => "heic",
            Self::Avif => "avif",
        }
    }

    /// Human name, as in "JPEG, PNG, GIF or WebP".
    pub fn label(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Heic => "HEIC",
            Self::Avif => "AVIF",
        }
    }

    /// The `accept` attribute of the pages' file inputs: every accepted MIME type, plus
    /// HEIF's other name and the extensions, since browsers on Linux and Windows give HEIC
    /// and AVIF files no type (a picker filtering by type alone would hide them).
    pub fn accept_attribute() -> String {
        let mut accept: Vec<&str> = Self::ACCEPTED.map(Self::mime).to_vec();
        accept.extend(["image/heif", ".heic", ".heif", ".avif"]);
        accept.join(",")
    }

    /// "JPEG, PNG, GIF, WebP": the list shown wherever a format is refused.
    pub fn accepted_list() -> String {
        Self::ACCEPTED.map(Self::label).join(", ")
    }
}
