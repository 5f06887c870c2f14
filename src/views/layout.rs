//! The shell every page shares.

use maud::{DOCTYPE, Markup, html};

use crate::assets::url as asset_url;

/// What differs between pages in the shell.
pub struct Shell<'a> {
    /// `<title>`.
    pub title: &'a str,
    /// `data-page` on `<body>`, for styles, scripts and tests.
    pub page: &'a str,
    /// `data-reason` on `<body>` (why a gallery cannot be shown).
    pub reason: Option<&'a str>,
    /// Scripts from `assets/`, loaded deferred.
    pub scripts: &'a [&'a str],
    /// Stylesheets from `assets/` besides `app.css`.
    pub styles: &'a [&'a str],
}

/// Wrap `content` in the page shell.
pub fn render(shell: &Shell<'_>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover";
                meta name="color-scheme" content="light dark";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (shell.title) " · maiimg" }
                link rel="icon" href=(asset_url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(asset_url("app.css"));
                @for style in shell.styles {
                    link rel="stylesheet" href=(asset_url(style));
                }
                @for script in shell.scripts {
                    script src=(asset_url(script)) defer {}
                }
            }
            body data-page=(shell.page) data-reason=[shell.reason] {
                a class="skip-link" href="#main" { "Skip to content" }
                header class="site-header" {
                    a class="brand" href="/" aria-label="maiimg home" {
                        img src=(asset_url("icon.svg")) alt="" width="28" height="28";
                        span { "maiimg" }
                    }
                    // Owners' pages only: a viewer of a shared gallery has nothing there.
                    @if matches!(shell.page, "upload" | "manage" | "stats" | "galleries") {
                        nav class="site-nav" aria-label="Site" {
                            a id="nav-galleries" href="/galleries"
                                aria-current=[(shell.page == "galleries").then_some("page")] { "My galleries" }
                        }
                    }
                }
                (content)
                footer class="site-footer" {
                    p { "Shared with maiimg · private photo sharing, no account needed" }
                }
            }
        }
    }
}
