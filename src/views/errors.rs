//! Pages for things that went wrong.

use maud::{Markup, html};

use super::layout::{Shell, render};

/// A plain page: what happened, and a way home.
pub fn page(status: u16, heading: &str, text: &str) -> Markup {
    let shell = Shell {
        title: heading,
        page: "error",
        reason: None,
        scripts: &[],
        styles: &[],
    };
    render(
        &shell,
        html! {
            main id="main" class="narrow error-page" data-status=(status) {
                h1 id="error-heading" { (heading) }
                p id="error-text" { (text) }
                p { a class="button" href="/" { "Share your own photos" } }
            }
        },
    )
}
