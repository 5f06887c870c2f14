//! The owner's page for one gallery. Its script reads the key from the URL fragment and
//! fills the page from the API; without the key it only offers a field to paste it.

use maud::{Markup, html};

use super::access_form::{AccessForm, fields};
use super::layout::{Shell, render};

/// The edit forms; `manage-edit.js` fills them from the gallery and sends the changes.
fn editor() -> Markup {
    html! {
        section id="edit-section" class="edit" aria-labelledby="edit-heading" {
            h3 id="edit-heading" { "Edit" }
            form id="title-form" {
                label for="edit-title" { "Title" }
                div class="copy-row" {
                    input type="text" id="edit-title" maxlength="200" placeholder="Untitled gallery";
                    button type="submit" class="button" { "Save title" }
                }
            }
            h4 id="photos-heading" { "Photos" }
            p class="meta" id="photos-help" {
                "Drag a photo to move it, or use its arrow buttons. Captions are saved when you leave the field."
            }
            ol id="edit-images" class="edit-images" aria-labelledby="photos-heading" aria-describedby="photos-help" {}
            div class="add-photos" {
                label for="add-files" class="button" { "Add photos" }
                input type="file" id="add-files" class="visually-hidden" multiple accept=(crate::model::MediaFormat::accept_attribute());
                span id="add-status" class="meta" role="status" aria-live="polite" {}
            }
            form id="settings-form" class="settings-form" {
                h4 { "Access" }
                (fields(&AccessForm::manage()))
                button type="submit" class="button primary" { "Save access settings" }
            }
        }
    }
}

/// Render the manage page shell for gallery `id`.
pub fn page(id: &str) -> Markup {
    let shell = Shell {
        title: "Manage gallery",
        page: "manage",
        reason: None,
        scripts: &[
            "files.js",
            "copy.js",
            "store.js",
            "api.js",
            "access-form.js",
            "manage.js",
            "manage-edit.js",
        ],
        styles: &["charts.css"],
    };
    render(
        &shell,
        html! {
            main id="main" class="narrow" data-gallery-id=(id) {
                h1 id="manage-heading" { "Manage gallery" }
                p id="manage-status" class="notice" role="status" aria-live="polite" { "Checking the manage key…" }
                form id="key-form" hidden {
                    label for="key-input" { "Paste the manage link or key" }
                    div class="copy-row" {
                        input type="password" id="key-input" autocomplete="off" required;
                        button type="submit" class="button primary" { "Open" }
                    }
                }
                section id="manage-panel" hidden aria-labelledby="manage-title" {
                    h2 id="manage-title" {}
                    div class="manage-top" {
                        span id="manage-state" class="state" role="status" {}
                        button type="button" id="toggle-enabled" class="button" {}
                    }
                    p id="manage-meta" class="meta" {}
                    ul id="manage-rules" class="rules" {}
                    div class="result-grid" {
                        div class="result-links" {
                            label for="share-url" { "Share link" }
                            div class="copy-row" {
                                input type="text" id="share-url" readonly;
                                button type="button" class="button" data-copy="share-url" { "Copy" }
                            }
                            p { a id="open-share" href="#" target="_blank" rel="noopener noreferrer" { "Open the gallery" } }
                        }
                        figure class="qr" {
                            img id="qr-image" alt="QR code that opens the share link" width="200" height="200";
                            figcaption {
                                a id="qr-png" href="#" download { "Download PNG" }
                                " · "
                                a id="qr-svg" href="#" download { "SVG" }
                            }
                        }
                    }
                    // A form, not a link: the poster names a gallery only for its owner, and
                    // the key goes in the body (the script fills it), never in a URL.
                    form id="poster-form" method="post" action={ "/m/" (id) "/poster" } target="_blank" class="links" {
                        input type="hidden" name="key" id="poster-key";
                        button type="submit" id="poster-link" class="link-button" { "Printable poster (QR code and rules)" }
                    }
                    (editor())
                    section id="manage-stats" class="manage-stats" aria-labelledby="manage-stats-heading" {
                        h3 id="manage-stats-heading" { "Statistics" }
                        div id="manage-stats-panel" {}
                        p { a id="stats-link" class="button" href={ "/m/" (id) "/stats" } { "Full statistics and access log (live)" } }
                    }
                    div class="danger-zone" {
                        h3 { "Delete" }
                        p { "Deleting is permanent: the link stops working at once and the photos are removed from the server." }
                        button type="button" id="delete-button" class="button danger" { "Delete this gallery" }
                    }
                }
            }
        },
    )
}
