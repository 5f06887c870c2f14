//! The one error type of the HEIF container layer.

/// Why a HEIF/AVIF file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeifError {
    /// The boxes contradict themselves or the file's size (an upload to refuse with 422).
    #[error("the HEIF container is damaged: {0}")]
    Corrupt(String),
    /// Well formed, but something this server does not read (an image sequence alone,
    /// another handler, protected items, data in another file, an unknown codec).
    #[error("this HEIF file is not supported: {0}")]
    Unsupported(String),
    /// More pixels than `max_pixels` (of the image, or of its tiles added up).
    #[error("the image has {pixels} pixels; the limit is {limit}")]
    TooManyPixels {
        /// Pixels of the image, or of its tiles added up.
        pixels: u64,
        /// `max_pixels`.
        limit: u64,
    },
    /// A side longer than `max_dimension`.
    #[error("the image is {side} pixels long on one side; the limit is {limit}")]
    TooLong {
        /// The longest side.
        side: u32,
        /// `max_dimension`.
        limit: u32,
    },
}

impl HeifError {
    pub(super) fn corrupt(reason: String) -> Self {
        HeifError::Corrupt(reason)
    }
}
