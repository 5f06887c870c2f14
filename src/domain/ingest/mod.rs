//! From uploaded bytes to stored files: sniff → check the header against the limits →
//! decode (with `image::Limits`) → bake in the EXIF orientation → strip metadata → renditions.
//!
//! Pure CPU work on one file; it writes nothing. [`Pool`] admits them by the memory they need.

pub mod animation;
mod bmff;
mod colour;
mod decode_avif;
mod decode_heif;
mod error;
pub mod generation;
pub mod heif;
pub mod jpeg;
mod pipeline;
pub mod pipeline_heif;
mod pool;
mod render;
pub mod sniff;
pub mod strip;
mod text;

pub use error::IngestError;
pub use pipeline::{Ingested, Limits, check_header, ingest};
pub use pool::{Pool, decode_cost};
pub use render::{DISPLAY_EDGE, Encoded, THUMB_EDGE, fit_within};
pub use text::{clean_name, human_bytes};
