//! "My galleries": the shell of the page that lists every gallery this browser knows (its
//! saved manage keys and its owner key), with batch actions, the owner-key panel and the
//! export and import of the keys. `galleries.js` fills it from the JSON API.

use maud::{Markup, html};

use super::layout::{Shell, render};

/// The expiry choices of "Extend expiry": (value, label). Counted from now, because one
/// batch sets one expiry for every gallery it names.
const EXTEND_CHOICES: [(&str, &str); 3] = [
    ("1", "1 day from now"),
    ("7", "7 days from now"),
    ("30", "30 days from now"),
];

fn toolbar() -> Markup {
    html! {
        div id="toolbar" class="toolbar" {
            label class="check select-all" for="select-all" {
                input type="checkbox" id="select-all" aria-controls="gallery-list";
                " Select all"
            }
            span id="selected-count" class="meta" { "None selected" }
            div class="toolbar-actions" role="group" aria-label="Actions on the selected galleries" {
                button type="button" id="batch-disable" class="button small" data-action="disable" disabled { "Disable" }
                button type="button" id="batch-enable" class="button small" data-action="enable" disabled { "Enable" }
                button type="button" id="batch-extend" class="button small" data-action="extend" disabled
                    aria-expanded="false" aria-controls="extend-form" { "Extend expiry" }
                button type="button" id="batch-delete" class="button small danger" data-action="delete" disabled { "Delete" }
            }
        }
        form id="extend-form" class="panel extend" hidden aria-labelledby="extend-heading" {
            fieldset {
                legend id="extend-heading" { "New expiry for the selected galleries" }
                div class="choices" {
                    @for (i, (value, label)) in EXTEND_CHOICES.iter().enumerate() {
                        label class="check" {
                            input type="radio" name="extend" value=(value) checked[i == 1];
                            " " (label)
                        }
                    }
                    label class="check" {
                        input type="radio" name="extend" value="date" id="extend-on-date";
                        " At the end of"
                    }
                    input type="date" id="extend-date" aria-label="Expiry date";
                }
            }
            p id="extend-error" class="notice error" role="alert" {}
            div class="form-actions" {
                button type="submit" id="extend-apply" class="button primary" { "Set expiry" }
                button type="button" id="extend-cancel" class="button" { "Cancel" }
            }
        }
    }
}

fn owner_panel() -> Markup {
    html! {
        section id="owner-panel" class="panel" aria-labelledby="owner-heading" {
            h2 id="owner-heading" { "Owner key" }
            p class="meta" {
                "One key for all your galleries: with it, this page lists and manages them on any "
                "device. The server keeps only a fingerprint of it."
            }
            div id="owner-offer" class="warning" hidden {
                p id="owner-offer-text" {}
                div class="form-actions" {
                    button type="button" id="owner-offer-accept" class="button primary" { "Use this owner key" }
                    button type="button" id="owner-offer-decline" class="button" { "No, ignore it" }
                }
            }
            div id="owner-none" {
                p { button type="button" id="owner-create" class="button primary" { "Create an owner key" } }
                form id="owner-form" {
                    label for="owner-input" { "Or use the owner key from another device" }
                    div class="copy-row" {
                        input type="text" id="owner-input" autocomplete="off" autocapitalize="off"
                            spellcheck="false" required aria-describedby="owner-input-hint";
                        button type="submit" id="owner-use" class="button" { "Use" }
                    }
                    p id="owner-input-hint" class="hint" {
                        "Paste the key or the owner link, or scan its QR code with this device’s camera."
                    }
                }
            }
            div id="owner-current" hidden {
                div class="owner-grid" {
                    div {
                        label for="owner-key" { "Your owner key" }
                        div class="copy-row" {
                            input type="text" id="owner-key" class="mono" readonly;
                            button type="button" id="owner-copy" class="button" data-copy="owner-key" { "Copy" }
                        }
                        p class="warning" {
                            strong { "Keep it private and keep a copy. " }
                            "Anyone who has it can change and delete these galleries; "
                            "nobody can recover it if it is lost."
                        }
                        p id="owner-unfiled" hidden {
                            button type="button" id="owner-file" class="button" {}
                        }
                        p { button type="button" id="owner-forget" class="button small" { "Forget the key in this browser" } }
                    }
                    figure class="qr" {
                        img id="owner-qr" width="200" height="200"
                            alt="QR code of the owner link: scan it with another device to open My galleries there";
                        figcaption { "Scan with another device" }
                    }
                }
            }
        }
    }
}

fn keys_panel() -> Markup {
    html! {
        section id="keys-panel" class="panel" aria-labelledby="keys-heading" {
            h2 id="keys-heading" { "Back up this browser’s keys" }
            p class="meta" {
                "Download the keys this browser keeps (manage keys and the owner key) as a file, "
                "and import it in another browser or after clearing this one. Importing adds to "
                "what is here. The file is as secret as the keys."
            }
            div class="form-actions" {
                button type="button" id="export-keys" class="button" { "Download keys" }
                button type="button" id="import-button" class="button" { "Import keys…" }
                input type="file" id="import-file" class="visually-hidden" tabindex="-1"
                    accept="application/json,.json" aria-hidden="true";
            }
            p id="keys-status" class="notice" role="status" aria-live="polite" {}
        }
    }
}

/// Render the "My galleries" page.
pub fn page() -> Markup {
    let shell = Shell {
        title: "My galleries",
        page: "galleries",
        reason: None,
        scripts: &[
            "copy.js",
            "store.js",
            "api.js",
            "owner-keys.js",
            "galleries.js",
        ],
        styles: &["galleries.css"],
    };
    render(
        &shell,
        html! {
            main id="main" class="wide" {
                div class="section-head" {
                    h1 id="galleries-heading" { "My galleries" }
                    a class="button primary" href="/" { "Share new photos" }
                }
                p class="lede" {
                    "Every gallery created in this browser, and those filed under your owner key."
                }
                p id="galleries-status" class="notice" role="status" aria-live="polite" { "Loading…" }
                noscript {
                    p class="notice" { "This page needs JavaScript: the keys to your galleries are kept by your browser." }
                }
                section id="list-section" aria-labelledby="list-heading" {
                    h2 id="list-heading" class="visually-hidden" { "Galleries" }
                    (toolbar())
                    // A live region from the start, so that the results are read out when they
                    // appear; next to the toolbar, so that they are seen in a long list.
                    div id="batch-results" aria-live="polite" {}
                    ul id="gallery-list" class="gallery-list" aria-labelledby="list-heading" {}
                    div id="empty-list" class="empty" hidden {
                        p { "No galleries in this browser yet." }
                        p { a href="/" { "Share photos" } ", or use your owner key from another device below." }
                    }
                }
                (owner_panel())
                (keys_panel())
                dialog id="delete-dialog" aria-labelledby="delete-heading" aria-describedby="delete-text" {
                    form method="dialog" {
                        h2 id="delete-heading" {}
                        p id="delete-text" {}
                        ul id="delete-names" {}
                        div class="form-actions" {
                            button type="submit" value="cancel" id="delete-cancel" class="button" autofocus { "Cancel" }
                            button type="submit" value="delete" id="delete-confirm" class="button danger-solid" {}
                        }
                    }
                }
            }
        },
    )
}
