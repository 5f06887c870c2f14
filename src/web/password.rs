//! `POST /g/<id>/password`: the password form. A right password counts as the open and
//! gives the ticket; wrong ones are limited per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::{Route, State, post, routes};
use time::OffsetDateTime;

use super::client::ClientAddr;
use super::error::{PageError, WebError};
use super::viewer::{count_open, load};
use super::visit::Visit;
use super::{App, blocking};
use crate::domain::access::{self, Decision, Reason, Viewer};
use crate::domain::passwords;
use crate::store::Cached;
use crate::views::refusal::Refusal;

/// Wrong attempts allowed per client and gallery within [`WINDOW`].
const MAX_FAILURES: u32 = 5;
/// How long wrong attempts are remembered.
const WINDOW: Duration = Duration::from_secs(10 * 60);

/// Recent wrong attempts by (client address, gallery).
#[derive(Debug, Default)]
pub struct Attempts(Mutex<HashMap<(IpAddr, String), (u32, Instant)>>);

impl Attempts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(IpAddr, String), (u32, Instant)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds to wait if this client used up its attempts.
    fn blocked(&self, key: &(IpAddr, String), now: Instant) -> Option<u64> {
        let map = self.lock();
        let (failures, since) = map.get(key)?;
        let left = WINDOW
            .checked_sub(now.duration_since(*since))
            .filter(|left| !left.is_zero())?;
        (*failures >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    fn failed(&self, key: (IpAddr, String), now: Instant) {
        let mut map = self.lock();
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let entry = map.entry(key).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    fn succeeded(&self, key: &(IpAddr, String)) {
        self.lock().remove(key);
    }
}

#[derive(FromForm)]
struct PasswordForm {
    password: String,
}

#[post("/g/<id>/password", data = "<form>")]
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
    let now = OffsetDateTime::now_utc();
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
    let clock = Instant::now();
    if let Some(seconds) = app.attempts.blocked(&key, clock) {
        return Err(WebError::TooManyAttempts(seconds).into());
    }
    let hash = record.settings.password_hash.clone().unwrap_or_default();
    let given = form.into_inner().password;
    let right = blocking(app, move |_| passwords::verify(&given, &hash)).await?;
    if !right {
        app.attempts.failed(key, clock);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_limited_per_client_and_forgotten_after_the_window() {
        let attempts = Attempts::default();
        let key = (IpAddr::from([10, 0, 0, 1]), "g".to_owned());
        let other = (IpAddr::from([10, 0, 0, 2]), "g".to_owned());
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(attempts.blocked(&key, start), None);
            attempts.failed(key.clone(), start);
        }
        assert!(attempts.blocked(&key, start).is_some());
        assert_eq!(attempts.blocked(&other, start), None);
        assert_eq!(attempts.blocked(&key, start + WINDOW), None);
        attempts.succeeded(&key);
        assert_eq!(attempts.blocked(&key, start), None);
    }
}
