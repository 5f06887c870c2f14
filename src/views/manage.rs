//! The owner's page for one gallery. Its script reads the key from the URL fragment and
//! fills the page from the API; without the key it only offers a field to paste it.

use maud::{Markup, html};

use super::layout::{Shell, render};

/// Render the manage page shell for gallery `id`.
pub fn page(id: &str) -> Markup {
    let shell = Shell {
        title: "Manage gallery",
        page: "manage",
        reason: None,
        scripts: &["copy.js", "store.js", "manage.js"],
        styles: &[],
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
                    p { a id="stats-link" class="button" href={ "/m/" (id) "/stats" } { "Statistics and access log" } }
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
                    ul id="manage-grid" class="grid small" aria-label="Photos in this gallery" {}
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
