//! The upload page: drop or pick photos, watch each one upload, get the link and QR code.

use maud::{Markup, html};

use super::access_form::{AccessForm, fields};
use super::layout::{Shell, render};
use crate::domain::ingest::human_bytes;
use crate::model::MediaFormat;

/// The limits the page states and its script enforces before sending anything.
pub struct UploadView {
    /// Most images per gallery.
    pub max_images: usize,
    /// Largest file.
    pub max_file_bytes: u64,
    /// Largest image in pixels.
    pub max_pixels: u64,
    /// Expiry choices the instance allows: (label, `expires_in` value), default first.
    pub expiry_choices: Vec<(String, String)>,
    /// A private instance: uploads need the upload password, which the page asks for.
    pub private: bool,
}

/// The access options, folded away: most uploads need none of them.
fn options(view: &UploadView) -> Markup {
    html! {
        details id="options" class="options" {
            summary { "Access options " span class="optional" { "(expiry, release time, daily hours)" } }
            div class="options-body" {
                (fields(&AccessForm::upload(&view.expiry_choices)))
            }
        }
    }
}

/// Render the upload page.
pub fn page(view: &UploadView) -> Markup {
    let accept = MediaFormat::accept_attribute();
    let formats = MediaFormat::accepted_list();
    let megapixels = view.max_pixels / 1_000_000;
    let shell = Shell {
        title: "Share photos",
        page: "upload",
        reason: None,
        scripts: &[
            "files.js",
            "copy.js",
            "store.js",
            "api.js",
            "access-form.js",
            "upload.js",
        ],
        styles: &[],
    };
    render(
        &shell,
        html! {
            main id="main" class="narrow" {
                section id="uploader" aria-labelledby="upload-heading"
                    data-max-images=(view.max_images)
                    data-max-file-bytes=(view.max_file_bytes)
                    data-accept=(accept)
                    data-formats=(formats)
                    data-private=[view.private.then_some("true")] {
                    h1 id="upload-heading" { "Share photos" }
                    p class="lede" {
                        "Drop up to " (view.max_images) " photos and get a link and a QR code at once. No account needed."
                    }
                    form id="upload-form" method="post" action="/api/galleries" enctype="multipart/form-data" {
                        @if view.private {
                            div id="upload-password-row" class="upload-password" {
                                label for="upload-password" { "Upload password" }
                                input type="password" id="upload-password" autocomplete="current-password"
                                    required aria-describedby="upload-password-hint";
                                p id="upload-password-hint" class="hint" {
                                    "This server is private: uploading needs its password. Viewing shared galleries does not."
                                }
                            }
                        }
                        label id="dropzone" class="dropzone" for="file-input" {
                            span class="dz-icon" aria-hidden="true" { "＋" }
                            span class="dz-title" { "Drop photos here" }
                            span class="dz-sub" { "or " span class="dz-link" { "choose from your device" } }
                            span class="dz-limits" id="limits" {
                                (formats) " · up to " (human_bytes(view.max_file_bytes)) " and "
                                (megapixels) " megapixels each · up to " (view.max_images) " photos"
                            }
                        }
                        input type="file" id="file-input" name="file" class="visually-hidden" multiple accept=(accept);
                        p id="picker-message" class="notice" role="status" aria-live="polite" {}
                        ul id="file-list" class="file-list" aria-label="Selected photos" {}
                        (options(view))
                        div class="create-row" {
                            label for="title-input" { "Title " span class="optional" { "(optional)" } }
                            input type="text" id="title-input" name="title" maxlength="200" autocomplete="off"
                                placeholder="e.g. Anna & Ben’s wedding";
                            button type="submit" id="create-button" class="button primary" {
                                "Create gallery"
                            }
                            p id="create-status" class="notice" role="status" aria-live="polite" {}
                        }
                    }
                }
                section id="result" class="result" hidden aria-labelledby="result-heading" {
                    h2 id="result-heading" tabindex="-1" { "Your gallery is ready" }
                    div class="result-grid" {
                        div class="result-links" {
                            label for="share-url" { "Share link" }
                            div class="copy-row" {
                                input type="text" id="share-url" readonly;
                                button type="button" id="copy-share" class="button" data-copy="share-url" { "Copy" }
                            }
                            p { a id="open-share" href="#" target="_blank" rel="noopener noreferrer" { "Open the gallery" } }
                            label for="manage-url" { "Manage link" }
                            div class="copy-row" {
                                input type="text" id="manage-url" readonly;
                                button type="button" id="copy-manage" class="button" data-copy="manage-url" { "Copy" }
                            }
                            p id="manage-warning" class="warning" {
                                strong { "Keep the manage link private and safe. " }
                                "It is the only key to change or delete this gallery and cannot be recovered. "
                                "This browser remembers it for you, but clearing its data forgets it."
                            }
                        }
                        figure class="qr" {
                            img id="qr-image" alt="QR code that opens the share link" width="240" height="240";
                            figcaption {
                                a id="qr-png" href="#" download { "Download PNG" }
                                " · "
                                a id="qr-svg" href="#" download { "SVG" }
                            }
                        }
                    }
                    p { button type="button" id="start-over" class="button" { "Share more photos" } }
                }
                noscript {
                    p class="notice" { "Without JavaScript the form still uploads, and answers with the links as JSON." }
                }
            }
        },
    )
}
