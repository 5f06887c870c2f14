//! The viewer: a grid of thumbnails and a lightbox.

use maud::{Markup, html};

use super::layout::{Shell, render};
use crate::model::{ImageRecord, MediaFormat};

/// What the viewer page shows.
pub struct GalleryView<'a> {
    /// Gallery id.
    pub id: &'a str,
    /// Title (may be empty).
    pub title: &'a str,
    /// Images in order.
    pub images: &'a [ImageRecord],
    /// Offer the originals (per image and as a ZIP).
    pub allow_download: bool,
}

/// What the lightbox's download button fetches: the JPEG copy of a HEIC/AVIF original
/// (which the person downloading can open anywhere), else the original.
fn download_url(id: &str, index: usize, image: &ImageRecord) -> String {
    let file = if image.download.is_some() {
        "original.jpg"
    } else {
        "original"
    };
    format!("/g/{id}/i/{index}/{file}")
}

/// Thumbnails above the fold load at once; the rest as they scroll into view.
const EAGER: usize = 6;

/// Render the viewer.
pub fn page(view: &GalleryView<'_>) -> Markup {
    let title = if view.title.is_empty() {
        "Shared photos"
    } else {
        view.title
    };
    let count = view.images.len();
    let shell = Shell {
        title,
        page: "gallery",
        reason: None,
        scripts: &["viewer.js"],
        styles: &[],
    };
    render(
        &shell,
        html! {
            main id="main" class="gallery" data-gallery-id=(view.id) data-count=(count)
                data-downloads=(if view.allow_download { "on" } else { "off" }) {
                div class="gallery-head" {
                    div {
                        h1 id="gallery-title" { (title) }
                        p class="meta" id="gallery-meta" {
                            (count) @if count == 1 { " photo" } @else { " photos" }
                        }
                    }
                    @if view.allow_download {
                        a id="download-all" class="button" href=(format!("/g/{}/zip", view.id)) download {
                            "Download all"
                        }
                    }
                }
                ul id="grid" class="grid" {
                    @for (index, image) in view.images.iter().enumerate() {
                        @let alt = if image.caption.is_empty() {
                            format!("Photo {} of {count}", index + 1)
                        } else {
                            format!("Photo {} of {count}: {}", index + 1, image.caption)
                        };
                        li {
                            a class="tile" id=(format!("tile-{index}"))
                                href=(format!("/g/{}/i/{index}/display", view.id))
                                data-original=[view.allow_download.then(|| download_url(view.id, index, image))]
                                data-index=(index)
                                data-width=(image.display.width)
                                data-height=(image.display.height)
                                data-caption=[(!image.caption.is_empty()).then_some(&image.caption)]
                                aria-label=(format!("Open photo {} of {count}", index + 1)) {
                                img src=(format!("/g/{}/i/{index}/thumb", view.id))
                                    width=(image.thumb.width) height=(image.thumb.height)
                                    loading=(if index < EAGER { "eager" } else { "lazy" })
                                    decoding="async" alt=(alt);
                                @if image.animated { span class="badge" aria-hidden="true" { (animation_label(image)) } }
                            }
                            @if !image.caption.is_empty() {
                                p class="caption" { (image.caption) }
                            }
                        }
                    }
                }
            }
            dialog id="lightbox" class="lightbox" aria-label="Photo viewer" {
                figure class="lb-stage" {
                    img id="lb-image" alt="";
                    figcaption {
                        span id="lb-caption" {}
                        span id="lb-counter" aria-live="polite" {}
                    }
                }
                button type="button" id="lb-prev" class="lb-nav lb-prev" aria-label="Previous photo" { "‹" }
                button type="button" id="lb-next" class="lb-nav lb-next" aria-label="Next photo" { "›" }
                button type="button" id="lb-close" class="lb-close" aria-label="Close viewer" { "×" }
                @if view.allow_download {
                    a id="lb-download" class="lb-download" href="#" download { "Download original" }
                }
            }
        },
    )
}

/// The grid's mark on an animated tile (its thumbnail is a still): the animation's format.
fn animation_label(image: &ImageRecord) -> &'static str {
    match image.display.format {
        MediaFormat::Png => "APNG",
        format => format.label(),
    }
}

/// What link-preview bots get: a card with the title and the number of photos, no image.
pub fn preview(title: &str, count: usize) -> Markup {
    let title = if title.is_empty() {
        "Shared photos"
    } else {
        title
    };
    let description = format!("{count} photos shared privately with maiimg");
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                meta property="og:type" content="website";
                meta property="og:title" content=(title);
                meta property="og:description" content=(description);
                meta name="twitter:card" content="summary";
                meta name="robots" content="noindex, nofollow";
            }
            body data-page="preview" {
                h1 { (title) }
                p { (description) ". Open the link in a browser to see them." }
            }
        }
    }
}
