//! `POST /g/<id>/password`: the password form. A right password counts as the open and
//! gives the ticket; attempts are limited per client address and counted before they are
//! checked, and Argon2 runs for only a few requests at a time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::form::{Form, FromForm};
use rocket::response::Redirect;
use rocket::tokio::sync::Semaphore;
use rocket::{Route, State, post, routes};

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
/// How long a password waits for a free verifier before the server says it is busy. A
/// waiting request costs a parked future, not an Argon2 buffer, so it may wait a while;
/// the cap keeps a flood from holding connections open without end.
const VERIFIER_WAIT: Duration = Duration::from_secs(5);

type Key = (IpAddr, String);

/// Recent attempts by (client address, gallery), and the server-wide bound on Argon2
/// verifications running at once.
#[derive(Debug)]
pub struct Attempts {
    /// Attempts counted in the current window, and when that window began.
    counted: Mutex<HashMap<Key, (u32, Instant)>>,
    /// One permit per verification: each holds ~19 MiB for its run, so this bounds their
    /// memory however many guesses arrive together.
    verifiers: Arc<Semaphore>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts::with_verifiers(verifier_count())
    }
}

/// One verifier per core, two at least (one slow guess must not hold up every gallery)
/// and four at most (more would add memory, not speed, on a small server).
fn verifier_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

impl Attempts {
    fn with_verifiers(permits: usize) -> Attempts {
        Attempts {
            counted: Mutex::default(),
            verifiers: Arc::new(Semaphore::new(permits)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (u32, Instant)>> {
        self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count an attempt before it is checked, so guesses sent together cannot all pass
    /// the limit while the first is still being verified. `Err` holds the seconds to wait
    /// when this client has used up its attempts.
    fn reserve(&self, key: &Key, now: Instant) -> Result<(), u64> {
        let mut map = self.lock();
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let entry = map.entry(key.clone()).or_insert((0, now));
        let elapsed = now.duration_since(entry.1);
        if elapsed >= WINDOW {
            *entry = (0, now);
        } else if entry.0 >= MAX_FAILURES {
            return Err((WINDOW - elapsed).as_secs().max(1));
        }
        entry.0 += 1;
        Ok(())
    }

    /// Give back an attempt that was never checked (the server was busy).
    fn release(&self, key: &Key) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    /// The right password: this client starts afresh.
    fn succeeded(&self, key: &Key) {
        self.lock().remove(key);
    }

    /// Verify `given` against `hash` once a verifier is free. The permit moves into the
    /// blocking task, so it is held until Argon2 is done even if the request goes away.
    async fn verify(&self, app: &Arc<App>, given: String, hash: String) -> Result<bool, WebError> {
        let wait = Arc::clone(&self.verifiers).acquire_owned();
        let permit = match rocket::tokio::time::timeout(VERIFIER_WAIT, wait).await {
            Ok(permit) => permit.map_err(WebError::internal)?,
            Err(_) => return Err(WebError::Busy(VERIFIER_WAIT.as_secs())),
        };
        blocking(app, move |_| {
            let _permit = permit;
            passwords::verify(&given, &hash)
        })
        .await
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
    let right = match attempts.verify(app, given, hash).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_before_checking_and_forgotten_after_the_window() {
        let attempts = Attempts::with_verifiers(1);
        let key = (IpAddr::from([10, 0, 0, 1]), "g".to_owned());
        let other = (IpAddr::from([10, 0, 0, 2]), "g".to_owned());
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(attempts.reserve(&key, start), Ok(()));
        }
        assert_eq!(attempts.reserve(&key, start), Err(WINDOW.as_secs()));
        assert_eq!(attempts.reserve(&other, start), Ok(()));
        attempts.release(&key);
        assert_eq!(
            attempts.reserve(&key, start),
            Ok(()),
            "a given-back attempt"
        );
        assert!(attempts.reserve(&key, start).is_err());
        assert_eq!(attempts.reserve(&key, start + WINDOW), Ok(()));
        attempts.succeeded(&key);
        assert_eq!(attempts.reserve(&key, start), Ok(()));
    }
}
