//! The admin's instance-wide buttons: garbage collection, verifying every file, the purge.
//! Each is a POST form with the session's CSRF token, like every admin action.

use std::sync::Arc;

use rocket::form::Form;
use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{Route, State, post, routes};

use crate::domain::collector::{MassDeletion, Sweep};
use crate::domain::ingest::human_bytes;
use crate::web::admin::auth::{ActionForm, authorize};
use crate::web::app::{App, blocking};
use crate::web::error_response::PageError;

/// `POST /admin/gc`: collect every unreferenced blob file now.
#[post("/gc", data = "<form>")]
async fn collect(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    form: Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let session = authorize(app, cookies, form.csrf.as_deref())?;
    // Ticking "confirm" lets a sweep delete more than half of all files; without it such
    // a sweep is held back (it looks like a wrong database, not leftovers).
    let mass = if form.confirm {
        MassDeletion::Allow
    } else {
        MassDeletion::Hold
    };
    let sweep = blocking(app.inner(), move |app| {
        app.galleries.collect_garbage(app.clock.now(), mass)
    })
    .await??;
    rocket::info!(
        "admin: garbage collection removed {} files",
        sweep.freed.files
    );
    app.admin.flash(&session, sweep_message(&sweep));
    Ok(Redirect::to("/admin"))
}

/// What a collection did, in the admin's words.
fn sweep_message(sweep: &Sweep) -> String {
    let mut message = format!(
        "Garbage collection removed {} unreferenced files ({} freed).",
        sweep.freed.files,
        human_bytes(sweep.freed.bytes)
    );
    let later = sweep.marked + sweep.waiting;
    if later > 0 {
        message.push_str(&format!(
            " {later} more unreferenced files are marked and go once they have been \
             unreferenced for an hour."
        ));
    }
    if let Some(held) = sweep.held {
        message.push_str(&format!(
            " Nothing else was deleted: {} of all {} files were due, which looks like a \
             wrong or damaged database, not leftovers. Run `maiimg check`; if \
             the files are truly unused, run the collection again with “even if” ticked.",
            held.due, held.files
        ));
    }
    message
}

/// `POST /admin/verify`: hash every referenced file against its name.
#[post("/verify", data = "<form>")]
async fn verify(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    form: Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let session = authorize(app, cookies, form.csrf.as_deref())?;
    let found = blocking(app.inner(), |app| app.galleries.verify_files()).await??;
    let mut message = format!(
        "Verified {} files: {} intact, {} missing, {} damaged.",
        found.intact + found.missing.len() + found.damaged.len(),
        found.intact,
        found.missing.len(),
        found.damaged.len()
    );
    if !found.missing.is_empty() || !found.damaged.is_empty() {
        let names: Vec<String> = found
            .missing
            .iter()
            .chain(&found.damaged)
            .map(|d| d.to_hex())
            .collect();
        app.log_error(&format!(
            "verify files: missing or damaged: {}",
            names.join(" ")
        ));
        message.push_str(" Restore the data directory from a backup; `maiimg check` lists them.");
    }
    app.admin.flash(&session, message);
    Ok(Redirect::to("/admin"))
}

/// `POST /admin/purge`: run the purge of closed galleries now.
#[post("/purge", data = "<form>")]
async fn purge(
    app: &State<Arc<App>>,
    cookies: &CookieJar<'_>,
    form: Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let session = authorize(app, cookies, form.csrf.as_deref())?;
    let days = app.config.purge_after_days();
    let message = if days == 0 {
        "Purging is off (purge_after_days = 0): nothing was deleted.".to_owned()
    } else {
        let purged = blocking(app.inner(), move |app| {
            app.galleries.purge(app.clock.now(), days)
        })
        .await??;
        rocket::info!("admin: purge deleted {} galleries", purged.galleries);
        format!(
            "Purged {} galleries closed for more than {days} days; {} files removed ({}).",
            purged.galleries,
            purged.freed.files,
            human_bytes(purged.freed.bytes)
        )
    };
    app.admin.flash(&session, message);
    Ok(Redirect::to("/admin"))
}

/// The routes of the instance-wide buttons.
pub fn routes() -> Vec<Route> {
    routes![collect, verify, purge]
}
