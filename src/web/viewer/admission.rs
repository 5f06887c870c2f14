//! Who may see a gallery now: its record from memory or the database, the access
//! decision, a new viewer's counted open and ticket, and the access log's notes. Every
//! viewer route (page, images, archive, password) goes through here.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::domain::access::{self, Decision, Reason, Viewer};
use crate::domain::tracking::Event;
use crate::ids::GalleryId;
use crate::model::GalleryRecord;
use crate::store::{Admission, Cached};
use crate::views::refusal::Refusal;
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::guards::visit::Visit;

/// A gallery and its open count: from memory when there, else one blocking read.
pub async fn load(app: &Arc<App>, id: &str) -> Result<(GalleryId, Cached), WebError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    if let Some(hit) = app.galleries.cached(&id) {
        return Ok((id, hit));
    }
    let lookup = id.clone();
    let entry = blocking(app, move |app| app.galleries.load(&lookup)).await??;
    Ok((id, entry))
}

/// Log `event` for the access log. Logging never fails a request: a failure is reported
/// in the server log and the viewer is served.
pub fn note(
    app: &App,
    id: &GalleryId,
    record: &GalleryRecord,
    event: Event,
    visit: &Visit<'_>,
    now: OffsetDateTime,
) {
    if !app.logging() {
        return;
    }
    let who = visit.visitor(app);
    if let Err(e) = app.galleries.note(id, record, event, &who, now) {
        app.log_error(&format!("could not log a {event:?}: {e}"));
    }
}

pub fn refusal(
    id: &GalleryId,
    reason: Reason,
    opens_at: Option<OffsetDateTime>,
    record: &GalleryRecord,
) -> WebError {
    WebError::Denied(Refusal {
        reason,
        opens_at,
        timezone: record.settings.timezone.clone(),
        gallery: id.to_string(),
        notice: None,
    })
}

/// Does `ticket` admit to this gallery now, under its current ticket epoch?
pub fn valid_ticket(
    app: &App,
    id: &GalleryId,
    record: &GalleryRecord,
    ticket: &str,
    now: OffsetDateTime,
) -> bool {
    let epoch = record.settings.ticket_epoch;
    app.galleries.tickets().verify(id, epoch, ticket, now)
}

/// Count a new viewer's open (exactly, durably) and hand out the ticket that admits them.
pub async fn count_open(
    app: &Arc<App>,
    id: &GalleryId,
    record: &GalleryRecord,
    visit: &Visit<'_>,
    now: OffsetDateTime,
) -> Result<(), WebError> {
    // Below the disk reserve the open is still counted, with nothing logged.
    let who = app.logging().then(|| visit.visitor(app));
    match app.galleries.admit(id, record, who.as_ref(), now).await? {
        Admission::Admitted { .. } => {
            let epoch = record.settings.ticket_epoch;
            let ticket = app.galleries.tickets().issue(id, epoch, now);
            visit.admit(id, ticket, app.config.public_url().starts_with("https://"));
            Ok(())
        }
        Admission::LimitReached => Err(refusal(id, Reason::Limit, None, record)),
        Admission::Gone => Err(WebError::NotFound),
    }
}

/// The gallery, for a request that holds its viewer ticket and may see it right now.
/// Every image and archive request asks again, so a gallery switched off (or expired, or
/// out of its hours) stops serving at once.
pub async fn admitted(
    app: &Arc<App>,
    id: &str,
    visit: &Visit<'_>,
) -> Result<(GalleryId, Arc<GalleryRecord>), WebError> {
    let (id, Cached { record, .. }) = load(app, id).await?;
    let now = app.clock.now();
    let ticket = visit.ticket(&id);
    if !ticket.is_some_and(|t| valid_ticket(app, &id, &record, &t, now)) {
        return Err(WebError::NoTicket);
    }
    if let Decision::Denied { reason, opens_at } =
        access::decide(&record.settings, 0, Viewer { admitted: true }, now)
    {
        return Err(refusal(&id, reason, opens_at, &record));
    }
    Ok((id, record))
}
