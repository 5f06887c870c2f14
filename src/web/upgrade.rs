//! The background walk that brings stored images up to this build's ingest
//! (`domain/galleries/upgrade.rs`), started once the server listens. Decodes go through the
//! ingest pool one at a time, so uploads share the memory budget and the threads with it
//! instead of competing; it waits while the disk is low and after a failure, and goes on
//! where it stopped at the next start.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::error::DomainError;
use crate::domain::galleries::upgrade::Step;
use crate::spool::Body;
use crate::web::app::{App, blocking};

/// How long the walk waits after a failure (the database or the disk) before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// A breath between images, so a large collection's walk never holds a core for long.
const BETWEEN_IMAGES: Duration = Duration::from_millis(20);

/// Run the walk to its end on the runtime.
pub fn spawn(app: Arc<App>) {
    rocket::tokio::spawn(async move {
        loop {
            match walk(&app).await {
                Ok(()) => return,
                Err(e) => {
                    rocket::warn!("upgrading stored photos paused: {e}");
                    rocket::tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    });
}

/// One blocking step of the walk, its two ways of failing said in words (only logged).
async fn step<T, F>(app: &Arc<App>, f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&App) -> Result<T, DomainError> + Send + 'static,
{
    match blocking(app, f).await {
        Ok(done) => done.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn walk(app: &Arc<App>) -> Result<(), String> {
    loop {
        let next = step(app, |app| app.galleries.upgrade_next(app.clock.now())).await?;
        let Some(gallery) = next else {
            return Ok(());
        };
        let (mut redone, mut failed) = (0, 0);
        for image in gallery.images {
            while app.disk.low(app.clock.instant()) {
                rocket::tokio::time::sleep(RETRY_AFTER).await;
            }
            let old = image.clone();
            let original = step(app, move |app| app.galleries.upgrade_original(&old)).await?;
            let Some((original, needs)) = original else {
                continue;
            };
            match app
                .pool
                .ingest(Body::Memory(original), image.name.clone())
                .await
            {
                Ok((fresh, admission)) => {
                    let id = gallery.id.clone();
                    let done = step(app, move |app| {
                        let done = app.galleries.upgrade_image(&id, &image, needs, &fresh);
                        drop(admission);
                        done
                    })
                    .await?;
                    redone += u64::from(done == Step::Redone);
                }
                Err(e) => {
                    rocket::warn!("a stored photo could not be made again, left as it is: {e}");
                    failed += 1;
                }
            }
            rocket::tokio::time::sleep(BETWEEN_IMAGES).await;
        }
        let id = gallery.id;
        step(app, move |app| {
            app.galleries.upgrade_done(&id, redone, failed)
        })
        .await?;
    }
}
