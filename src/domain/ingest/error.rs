//! Why a file was refused: every message names the file and says what to change.

use crate::domain::ingest::text::human_bytes;
use crate::model::MediaFormat;

/// Why a file was refused. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Zero bytes.
    #[error("“{name}” is empty")]
    Empty {
        /// File name.
        name: String,
    },
    /// Bigger than `max_file_bytes`.
    #[error("“{name}” is larger than the limit of {} per file", human_bytes(*.limit))]
    TooLarge {
        /// File name.
        name: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not an accepted format (JPEG, PNG, GIF, WebP, HEIC, AVIF) by its bytes.
    #[error(
        "“{name}” is not an accepted image (it looks like {detected}); accepted formats: {}",
        MediaFormat::accepted_list()
    )]
    Unsupported {
        /// File name.
        name: String,
        /// What the bytes look like instead.
        detected: String,
    },
    /// An accepted format in a variant this server does not decode (12-bit or lossless
    /// JPEG): said as it is, not as a decoder's puzzle.
    #[error("“{name}” is {kind}, which this server cannot read; save it as an ordinary JPEG")]
    UnsupportedVariant {
        /// File name.
        name: String,
        /// The variant, in words ("a 12-bit JPEG").
        kind: &'static str,
    },
    /// Too many pixels or too long a side, or too much memory needed to decode.
    #[error("“{name}” is too large to process: {detail}")]
    TooManyPixels {
        /// File name.
        name: String,
        /// Dimensions and the limit, in words.
        detail: String,
    },
    /// Corrupt, truncated or otherwise undecodable.
    #[error("“{name}” could not be read as {format}: {reason}")]
    Corrupt {
        /// File name.
        name: String,
        /// The format its header claims.
        format: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// A spooled upload could not be read back from `tmp/` (a server fault, not the file's).
    #[error("“{name}” could not be read back from the server's disk: {reason}")]
    Unreadable {
        /// File name.
        name: String,
        /// The I/O error.
        reason: String,
    },
}
