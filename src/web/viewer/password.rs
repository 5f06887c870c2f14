//! `POST /g/<id>/password`: the password form. A right password counts as the open and
//! gives the ticket; attempts are limited per client address and counted before they are
//! checked, and Argon2 runs for only a few requests at a time.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::{Route, State, post, routes};

use crate::domain::access::{self, Decision, Reason, Viewer};
use crate::domain::passwords;
use crate::store::Cached;
use crate::views::refusal::Refusal;
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::guards::client::ClientAddr;
use crate::web::guards::visit::Visit;
use crate::web::viewer::admission::{count_open, load};

/// Verify `given` against `hash` once one of the server's few verifiers is free.
async fn verify(app: &Arc<App>, given: String, hash: String) -> Result<bool, WebError> {
    let permit = app.attempts.verifier().await?;
    blocking(app, move |_| {
        let _permit = permit;
        passwords::verify(&given, &hash)
    })
    .await
}

#[derive(FromForm)]
struct PasswordForm {
    password: String,
}

#[post("/<id>/password", data = "<form>")]
async fn password(
    app: &State<Arc<App>>,
    id: &str,
    form: Form<PasswordForm>,
    visit: Visit<'_>,
    // The socket's address, or what a trusted proxy forwarded; never a header a client
    // could forge to dodge the limit.
    client: ClientAddr,
) -> Result<Redirect, PageError> {
    let app = app.inner();
    let (id, Cached { record, .. }) = load(app, id).await?;
    let now = app.clock.now();
    let back = Redirect::to(format!("/g/{id}"));
    match access::decide(&record.settings, 0, Viewer::default(), now) {
        Decision::Denied {
            reason: Reason::Password,
            ..
        } => {}
        // No password (any more), or closed for another reason: the page says which.
        _ => return Ok(back),
    }
    let key = (client.0, id.to_string());
    let attempts = &app.attempts;
    attempts
        .reserve(&key, app.clock.instant())
        .map_err(WebError::TooManyAttempts)?;
    let hash = record.settings.password_hash.clone().unwrap_or_default();
    let given = form.into_inner().password;
    let right = match verify(app, given, hash).await {
        Ok(right) => right,
        Err(e) => {
            attempts.release(&key);
            return Err(e.into());
        }
    };
    if !right {
        return Err(WebError::Denied(Refusal {
            reason: Reason::Password,
            opens_at: None,
            timezone: record.settings.timezone.clone(),
            gallery: id.to_string(),
            notice: Some("That password is not right. Check it and try again.".into()),
        })
        .into());
    }
    app.attempts.succeeded(&key);
    count_open(app, &id, &record, &visit, now).await?;
    Ok(back)
}

pub fn routes() -> Vec<Route> {
    routes![password]
}
