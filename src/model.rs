//! Plain data shared by every layer: what a gallery, an image and a blob reference are.
//!
//! These types are what the store persists (as JSON inside redb values, so new optional
//! fields can be added without a migration) and what the domain and web layers read.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::Millis;

mod format;

pub use format::MediaFormat;

/// SHA-256 of a blob's bytes: its name on disk and its key in the refcount table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Hash `bytes` with SHA-256.
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Parse 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Digest> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .ok()?;
        Some(Digest(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("invalid sha256 hex digest"))
    }
}

/// One stored file of an image (original or a rendition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// Content address of the bytes.
    pub digest: Digest,
    /// Format of these bytes (a rendition may differ from the original).
    pub format: MediaFormat,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Size in bytes.
    pub bytes: u64,
}

/// Which stored file of an image a request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendition {
    /// Small, for grids (≤ 480 px long edge).
    Thumb,
    /// Large, for the lightbox (≤ 2048 px long edge, animation kept).
    Display,
    /// The uploaded file with its metadata stripped and orientation applied.
    Original,
    /// The full-resolution JPEG of a HEIC/AVIF original (`original.jpg`).
    OriginalJpeg,
}

impl Rendition {
    /// Parse the path segment used in image URLs.
    pub fn from_segment(s: &str) -> Option<Rendition> {
        match s {
            "thumb" => Some(Self::Thumb),
            "display" => Some(Self::Display),
            "original" => Some(Self::Original),
            "original.jpg" => Some(Self::OriginalJpeg),
            _ => None,
        }
    }
}

/// One image of a gallery: the stripped original and its two renditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The uploader's file name, cleaned up (used for download names).
    pub name: String,
    /// True for animated GIFs, APNGs and WebPs (more than one frame).
    #[serde(default)]
    pub animated: bool,
    /// The uploaded image, metadata stripped, orientation baked in.
    pub original: BlobRef,
    /// Lightbox rendition.
    pub display: BlobRef,
    /// Grid rendition.
    pub thumb: BlobRef,
    /// The owner's caption (may be empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caption: String,
    /// A full-resolution JPEG of a HEIC/AVIF original, for the people who download it and
    /// whose apps cannot open HEIC (served at `original.jpg`, put in ZIPs). Absent for every
    /// other format and in records written before it existed: they read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<BlobRef>,
}

impl ImageRecord {
    /// The blob of one rendition; `None` for the JPEG copy of an image that has none.
    pub fn blob(&self, rendition: Rendition) -> Option<&BlobRef> {
        match rendition {
            Rendition::Thumb => Some(&self.thumb),
            Rendition::Display => Some(&self.display),
            Rendition::Original => Some(&self.original),
            Rendition::OriginalJpeg => self.download.as_ref(),
        }
    }

    /// Every stored file of this image: the original, its renditions and its download JPEG.
    pub fn blobs(&self) -> impl Iterator<Item = &BlobRef> {
        [&self.original, &self.display, &self.thumb]
            .into_iter()
            .chain(self.download.as_ref())
    }

    /// Every blob this image references (a blob may appear twice, e.g. a small GIF's
    /// display rendition is its original; each appearance holds one reference). Every place
    /// refcounts move goes through this list, so a new kind of file is counted everywhere.
    pub fn digests(&self) -> Vec<Digest> {
        self.blobs().map(|b| b.digest).collect()
    }

    /// What "Download all" puts in the ZIP: the JPEG copy when there is one (what anyone
    /// can open), else the original.
    pub fn download_blob(&self) -> &BlobRef {
        self.download.as_ref().unwrap_or(&self.original)
    }
}

/// Daily opening hours, in the gallery's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyWindow {
    /// Opening time, minutes after local midnight.
    pub from: u16,
    /// Closing time, minutes after local midnight; before `from` when the window runs past
    /// midnight (e.g. 22:00–02:00).
    pub until: u16,
    /// Days the window opens on: bit 0 is Monday, bit 6 Sunday.
    pub days: u8,
}

/// Who may see a gallery, and when. Added fields must default to "no restriction" so that
/// older records keep their meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Off: the link shows the "disabled" page and no image is served.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How many new viewers may open the gallery (`None`: unlimited).
    #[serde(default)]
    pub max_opens: Option<u64>,
    /// Originals and "Download all" offered; off: only the display rendition is served.
    #[serde(default = "yes")]
    pub allow_download: bool,
    /// The link stops working at this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Scheduled release: closed before this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_from: Option<OffsetDateTime>,
    /// Closed from this instant on.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_until: Option<OffsetDateTime>,
    /// Open only during these hours.
    #[serde(default)]
    pub daily: Option<DailyWindow>,
    /// IANA time zone of the daily window and of times shown to viewers.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Argon2id PHC string of the viewing password; the password itself is never stored.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// Viewer tickets are bound to this number: advancing it ends every ticket issued
    /// before, so a new password or a takedown lets no one in on an old admission. Records
    /// from before it existed read as 0, the epoch their tickets were issued under.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ticket_epoch: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Settings {
    /// End every ticket issued so far: those viewers must be admitted (and counted) again.
    pub fn revoke_tickets(&mut self) {
        self.ticket_epoch = self.ticket_epoch.wrapping_add(1);
    }
}

fn yes() -> bool {
    true
}

fn utc() -> String {
    "UTC".into()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            max_opens: None,
            allow_download: true,
            expires_at: None,
            available_from: None,
            available_until: None,
            daily: None,
            timezone: utc(),
            password_hash: None,
            ticket_epoch: 0,
        }
    }
}

/// A gallery as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryRecord {
    /// Title shown on the viewer page (may be empty).
    pub title: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// SHA-256 of the manage key; the key itself is never stored.
    pub manage_key_hash: Digest,
    /// Images in display order.
    pub images: Vec<ImageRecord>,
    /// Access rules.
    #[serde(default)]
    pub settings: Settings,
    /// SHA-256 of the owner key this gallery is filed under, if any: that key may manage it
    /// too, from any device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Digest>,
    /// Switched off by the instance's administrator: the owner cannot switch it on again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub taken_down: bool,
}

impl GalleryRecord {
    /// A record with a title and nothing else (no images, default settings), for tests.
    #[cfg(test)]
    pub(crate) fn blank(title: &str) -> GalleryRecord {
        GalleryRecord {
            title: title.into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            manage_key_hash: Digest([0; 32]),
            images: Vec::new(),
            settings: Settings::default(),
            owner: None,
            taken_down: false,
        }
    }

    /// Total bytes of all originals.
    pub fn original_bytes(&self) -> u64 {
        self.images.iter().map(|i| i.original.bytes).sum()
    }
}

/// An image uploaded by the browser, not yet part of a gallery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedUpload {
    /// When it was uploaded; staged uploads left unused are collected after a day.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The ingested image.
    pub image: ImageRecord,
}

/// What happened, in one access-log record. Stored by position: new kinds go at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new viewer got the gallery (counted against the view limit).
    Open,
    /// An admitted viewer loaded the page again.
    Reload,
    /// A link-preview bot fetched the page.
    Preview,
    /// The page was refused (`detail` says why).
    Denied,
    /// A viewer looked at an image in the lightbox (once per viewer and image a day).
    View,
    /// An original was downloaded.
    Download,
    /// All originals were downloaded as a ZIP.
    Zip,
    /// Opens from one network past what an hour logs one by one: `detail` says how many
    /// (one record per network and hour, raised as they come; each open is counted).
    MoreOpens,
}

impl EventKind {
    /// The name used in the log, the API and the CSV export.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Open => "open",
            EventKind::Reload => "reload",
            EventKind::Preview => "preview",
            EventKind::Denied => "denied",
            EventKind::View => "view",
            EventKind::Download => "download",
            EventKind::Zip => "zip",
            EventKind::MoreOpens => "more_opens",
        }
    }
}

/// One access-log record. The store keeps it as postcard: its fields in this order, without
/// names, so any change to them needs a new table version and a migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
    /// What happened.
    pub kind: EventKind,
    /// The image, for views and downloads (its position when it happened).
    pub image: Option<u32>,
    /// The bot's name for previews, the reason for refusals.
    pub detail: Option<String>,
    /// `phone`, `tablet`, `desktop` or `bot`.
    pub device: String,
    /// OS and major version.
    pub os: String,
    /// Browser and major version.
    pub browser: String,
    /// Referring app or host, or `direct`.
    pub referrer: String,
    /// Salted daily hash of the visitor (hex): equal within a day for one visitor, unlinkable
    /// across days, never reversible.
    pub visitor: String,
    /// The address as the instance is configured to keep it (truncated), if at all.
    pub ip: Option<String>,
}
