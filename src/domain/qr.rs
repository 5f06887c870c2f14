//! QR codes of share links, as PNG and SVG.
//!
//! Error correction level Q (25 % recoverable) survives a phone screen's glare and a
//! creased print; the 4-module quiet zone is what scanners need to find the code.

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made (only if the URL is absurdly long).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode this link as a QR code: {0}")]
pub struct QrError(String);

fn code(url: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::Q)
        .map_err(|e| QrError(e.to_string()))
}

/// A PNG with 10-pixel modules (about 450 px for a typical link): sharp on screen and paper.
pub fn png(url: &str) -> Result<Vec<u8>, QrError> {
    let image = code(url)?
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(10, 10)
        .build();
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| QrError(e.to_string()))?;
    Ok(out)
}

/// A scalable SVG, for print.
pub fn svg(url: &str) -> Result<String, QrError> {
    Ok(code(url)?
        .render()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
