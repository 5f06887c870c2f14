//! Signed-in administrators, kept in memory: signing in with the token makes a random
//! 256-bit session id, valid 12 hours or until sign-out. Keeping them server-side makes
//! sign-out final and needs no signing key; a restart signs the administrator out, which is
//! acceptable. Each session has its own random CSRF token. Failed sign-ins are slowed per
//! client (`backoff.rs`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::ids::random_token;
use crate::web::admin::backoff::Backoff;

/// The session cookie.
pub const COOKIE: &str = "maiimg_admin";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;
#[derive(Debug)]
struct Session {
    csrf: String,
    expires: Instant,
    /// The outcome of the last action, shown once by the next page.
    flash: Option<String>,
}

/// Signed-in administrators and failed sign-ins.
#[derive(Debug, Default)]
pub struct Sessions {
    /// By SHA-256 of the session id, so a lookup's timing says nothing about live ids.
    live: Mutex<HashMap<[u8; 32], Session>>,
    /// Failed sign-ins per client, slowed down.
    pub failures: Backoff,
}

fn session_key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // Each critical section leaves the map valid; a poisoned lock is still usable.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: its id (for the cookie).
    pub fn open(&self, now: Instant) -> String {
        let id = random_token(32);
        let mut live = self.lock();
        live.retain(|_, s| s.expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            live.remove(&oldest);
        }
        live.insert(
            session_key(&id),
            Session {
                csrf: random_token(32),
                expires: now + SESSION_TTL,
                flash: None,
            },
        );
        id
    }

    /// The CSRF token of a live session, and its flash (taken: shown once).
    pub fn get(&self, id: &str, now: Instant) -> Option<(String, Option<String>)> {
        let mut live = self.lock();
        let key = session_key(id);
        match live.get_mut(&key) {
            Some(s) if s.expires > now => Some((s.csrf.clone(), s.flash.take())),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keep `message` for the session's next page.
    pub fn flash(&self, id: &str, message: String) {
        if let Some(s) = self.lock().get_mut(&session_key(id)) {
            s.flash = Some(message);
        }
    }

    pub fn close(&self, id: &str) {
        self.lock().remove(&session_key(id));
    }
}
