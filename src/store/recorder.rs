//! The recorder: the one writer of open counts.
//!
//! Viewers' opens must be exact under any concurrency (a limit of 50 admits exactly 50) and
//! durable before the page is served. A redb commit is durable but costs an fsync, so one
//! thread takes every waiting request, decides them in arrival order inside one write
//! transaction, commits once, and only then answers each: one fsync serves the whole batch
//! (group commit). Reads never wait for it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;

use redb::{Database, ReadableTable};
use rocket::tokio::sync::oneshot;

use super::tables::{GALLERIES, OPENS};
use super::{StoreError, decode};
use crate::ids::GalleryId;
use crate::model::GalleryRecord;

/// Most requests decided in one transaction.
const MAX_BATCH: usize = 4096;

/// The answer to a new viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Counted and committed: this is open number `opens`.
    Admitted {
        /// The count including this open.
        opens: u64,
    },
    /// The view limit is used up; nothing was counted.
    LimitReached,
    /// The gallery no longer exists.
    Gone,
}

struct Request {
    gallery: GalleryId,
    reply: oneshot::Sender<Result<Admission, StoreError>>,
}

/// Handle to the recorder thread. Dropping it lets the thread finish its batch and waits
/// for it, so the database is closed when the store is.
#[derive(Debug)]
pub struct Recorder {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("gallery", &self.gallery)
            .finish()
    }
}

impl Recorder {
    /// Start the writer thread. `group_commit: false` commits every open on its own (only
    /// for measuring what group commit gains).
    pub fn start(db: Arc<Database>, group_commit: bool) -> std::io::Result<Recorder> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let max_batch = if group_commit { MAX_BATCH } else { 1 };
        let thread = std::thread::Builder::new()
            .name("maiimg-recorder".into())
            .spawn(move || run(&db, &incoming, max_batch))?;
        Ok(Recorder {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    /// Count a new viewer's open if the limit allows, durably, before answering.
    pub async fn open(&self, gallery: &GalleryId) -> Result<Admission, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            gallery: gallery.clone(),
            reply,
        };
        let sent = self.requests.as_ref().map(|r| r.send(request));
        if !matches!(sent, Some(Ok(()))) {
            return Err(StoreError::Recorder("the recorder has stopped".into()));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Recorder(
                "the recorder dropped a request".into(),
            ))
        })
    }
}

fn run(db: &Database, incoming: &mpsc::Receiver<Request>, max_batch: usize) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match incoming.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        match decide_batch(db, &batch) {
            Ok(answers) => {
                for (request, answer) in batch.into_iter().zip(answers) {
                    let _ = request.reply.send(Ok(answer));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for request in batch {
                    let _ = request
                        .reply
                        .send(Err(StoreError::Recorder(message.clone())));
                }
            }
        }
    }
}

/// Decide every request in arrival order in one transaction and commit it.
fn decide_batch(db: &Database, batch: &[Request]) -> Result<Vec<Admission>, StoreError> {
    let txn = db.begin_write()?;
    let mut answers = Vec::with_capacity(batch.len());
    {
        let galleries = txn.open_table(GALLERIES)?;
        let mut opens = txn.open_table(OPENS)?;
        // Per gallery in this batch: its limit (None if gone) and its running count.
        let mut state: HashMap<&str, (Option<Option<u64>>, u64)> = HashMap::new();
        for request in batch {
            let id = request.gallery.as_str();
            if !state.contains_key(id) {
                let limit = match galleries.get(id)? {
                    Some(v) => Some(decode::<GalleryRecord>(v.value())?.settings.max_opens),
                    None => None,
                };
                let count = opens.get(id)?.map_or(0, |v| v.value());
                state.insert(id, (limit, count));
            }
            let Some((limit, count)) = state.get_mut(id) else {
                continue;
            };
            answers.push(match limit {
                None => Admission::Gone,
                Some(Some(max)) if *count >= *max => Admission::LimitReached,
                Some(_) => {
                    *count += 1;
                    Admission::Admitted { opens: *count }
                }
            });
        }
        for (id, (limit, count)) in state {
            if limit.is_some() {
                opens.insert(id, count)?;
            }
        }
    }
    txn.commit()?;
    Ok(answers)
}
