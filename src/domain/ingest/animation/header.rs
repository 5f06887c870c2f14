//! What an animation's chunk headers declare, before any pixel is decoded.

/// What an animation's headers declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// Frames (at least 1).
    pub frames: u32,
    /// Times played; 0 for ever.
    pub loops: u32,
    /// The container, and what the shrunk rendition is encoded as.
    pub kind: Kind,
}

/// Which container an animation came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// APNG.
    Apng,
    /// Animated WebP, whose frames are lossy (`VP8 `) or all lossless.
    Webp {
        /// At least one frame is lossy.
        lossy: bool,
    },
}

impl Header {
    /// More than one frame: shown as an animation.
    pub fn animated(&self) -> bool {
        self.frames > 1
    }

    /// The pixels compositing every frame onto the whole canvas touches, the GIF path's
    /// measure: playing (and shrinking) costs canvas × frames however small each frame is.
    pub fn pixels(&self) -> u64 {
        (u64::from(self.width) * u64::from(self.height)).saturating_mul(u64::from(self.frames))
    }
}
