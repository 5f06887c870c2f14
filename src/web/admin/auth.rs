//! Who may use `/admin`: present only when `admin_token` is set, and every state-changing
//! form (all POST) carries the session's CSRF token in a hidden field, compared in constant
//! time: a missing or wrong one changes nothing.

use std::net::IpAddr;

use rocket::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite};

use crate::ids::secrets_match;
use crate::web::admin::sessions::{COOKIE, SESSION_TTL};
use crate::web::app::App;
use crate::web::error::WebError;

/// 404 unless the instance has an admin token.
pub fn enabled(app: &App) -> Result<(), WebError> {
    if app.config.admin_token().is_set() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

/// A presented admin token, judged: wrong tries from `client` are slowed down (a few free,
/// then doubling waits) and logged with `what` was tried, never with the token.
pub fn check_token(app: &App, client: IpAddr, given: &str, what: &str) -> Result<(), WebError> {
    let now = app.clock.instant();
    let failures = &app.admin.failures;
    failures
        .check(client, now)
        .map_err(|wait| WebError::TooManyAttempts(wait.as_secs().max(1)))?;
    if !secrets_match(given, app.config.admin_token().expose()) {
        failures.failed(client, now);
        app.log_error(&format!("admin: wrong token {what} from {client}"));
        return Err(WebError::AdminTokenWrong);
    }
    failures.forget(client);
    Ok(())
}

/// The signed-in session, if any: (id, CSRF token, flash).
pub fn session(
    app: &App,
    cookies: &CookieJar<'_>,
) -> Result<Option<(String, String, Option<String>)>, WebError> {
    enabled(app)?;
    let Some(id) = cookies.get(COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    Ok(app
        .admin
        .get(&id, app.clock.instant())
        .map(|(csrf, flash)| (id, csrf, flash)))
}

/// A state-changing request: admin on, signed in, and the form's CSRF token right.
/// Returns the session id.
pub fn authorize(
    app: &App,
    cookies: &CookieJar<'_>,
    csrf: Option<&str>,
) -> Result<String, WebError> {
    let (id, expected, flash) = session(app, cookies)?.ok_or(WebError::AdminSignIn)?;
    if let Some(flash) = flash {
        // Not shown yet: keep it for the next page.
        app.admin.flash(&id, flash);
    }
    match csrf {
        Some(given) if secrets_match(given, &expected) => Ok(id),
        _ => Err(WebError::Csrf),
    }
}

/// The session cookie: HttpOnly, SameSite=Strict, on `/admin` only, Secure when
/// `public_url` is https.
pub fn cookie(app: &App, value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(app.config.public_url().starts_with("https://"))
        .max_age(time::Duration::seconds(SESSION_TTL.as_secs() as i64))
        .build()
}

/// A button's form: the session's CSRF token, and "confirm" where an action needs it.
#[derive(FromForm)]
pub struct ActionForm {
    pub csrf: Option<String>,
    pub confirm: bool,
}
