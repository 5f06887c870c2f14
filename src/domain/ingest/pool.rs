//! The decode pool: ingests run on blocking threads, admitted while the memory each is
//! estimated to need (from its header, before any pixel is decoded) fits one budget.
//!
//! Counting cores instead let two 50-megapixel decodes (~200 MB each) and a queue of whole
//! files in memory add up to gigabytes; counting bytes bounds what actually runs out.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use image::{ImageDecoder, ImageReader};
use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::domain::ingest::animation;
use crate::domain::ingest::error::IngestError;
use crate::domain::ingest::pipeline::{Ingested, Limits, ingest};
use crate::domain::ingest::text::clean_name;
use crate::domain::ingest::{bmff, jpeg, sniff};
use crate::model::MediaFormat;
use crate::spool::Body;

/// The budget is a semaphore of this many bytes per permit.
const UNIT: u64 = 1024 * 1024;
/// How much of a file is read to find its dimensions. A JPEG's frame header comes after its
/// EXIF, ICC and XMP segments, which rarely add up to this; if they do, the worst case is
/// assumed.
const HEAD_BYTES: usize = 512 * 1024;
/// Memory beyond the full-size frame: the display rendition (2048² RGBA) and the resizer's
/// buffers.
const RENDITION_BYTES: u64 = 24 * 1024 * 1024;

/// Width, height and bytes held per pixel of the canvas, as a header says: the decoded
/// frame's, and for an APNG or animated WebP the compositing canvases' too.
pub type Header = (u32, u32, u64);

/// An animation's frame-by-frame shrink holds two 8-bit RGBA canvases beside the still
/// first frame: the decoder's composite and the frame handed over (APNG: the composite and
/// the raw subframe).
const ANIMATION_BYTES_PER_PIXEL: u64 = 4;

/// Bytes one ingest of a `file_bytes` file with this `header` is expected to hold at its
/// peak. `None` (no readable header) assumes the largest frame `limits` allow.
pub fn decode_cost(file_bytes: u64, header: Option<Header>, limits: &Limits) -> u64 {
    let frame = match header {
        Some((w, h, bpp)) => {
            let pixels = u64::from(w) * u64::from(h);
            let refused =
                pixels > limits.max_pixels || w > limits.max_dimension || h > limits.max_dimension;
            // Refused from the header, before a pixel is decoded.
            if refused { 0 } else { pixels * bpp }
        }
        None => limits.max_pixels * 4,
    };
    // The upload itself and the stripped original rebuilt from it; the decoded frame and at
    // most one full-size copy of it (8-bit conversion, the transparency check's RGBA, the
    // EXIF rotation). A JPEG's frame is the one at its DCT scale ([`probe`]); the second
    // copy covers its rotated original (about the file's size) and the colour conversion.
    2 * file_bytes + 2 * frame + RENDITION_BYTES
}

/// Read the header of `body`'s first bytes. `None` when it does not say (not an image,
/// or its frame header lies past [`HEAD_BYTES`]); the ingest itself will tell why.
pub fn probe(head: Cursor<Vec<u8>>) -> Option<Header> {
    match sniff::sniff(head.get_ref()) {
        Ok(MediaFormat::Heic | MediaFormat::Avif) => {
            let file = bmff::parse(bmff::meta_prefix(head.get_ref())).ok()?;
            let header = bmff::header(&file).ok()?;
            return Some((header.width, header.height, bmff::FRAME_BYTES_PER_PIXEL));
        }
        // JPEGs are decoded at the scale of their renditions (and arithmetic ones only by
        // libjpeg-turbo): the frame that path holds.
        Ok(MediaFormat::Jpeg) => {
            return jpeg::header(head.get_ref())
                .ok()
                .map(|h| jpeg::decoded_frame(&h));
        }
        _ => {}
    }
    let animated = animation::declared(head.get_ref());
    let decoder = ImageReader::new(head)
        .with_guessed_format()
        .ok()?
        .into_decoder()
        .ok()?;
    let (w, h) = decoder.dimensions();
    let bpp = u64::from(decoder.color_type().bytes_per_pixel());
    let canvases = if animated {
        ANIMATION_BYTES_PER_PIXEL
    } else {
        0
    };
    Some((w, h, bpp + canvases))
}

/// Runs ingests while their estimated memory fits the budget; a burst of uploads waits
/// (on disk, see `spool`) instead of decoding at once.
///
/// Decodes run on a few long-lived threads (one per core: they are CPU-bound), not on
/// the blocking pool: the allocator keeps what a thread freed for that thread's next
/// allocations, so dozens of short-lived blocking threads each kept a decode's worth
/// (40 parallel uploads reached 600+ MiB with the budget respected); a few threads reuse it.
/// Decodes needing more than half the budget (which run one at a time anyway) all go to
/// one thread of their own, so only one thread keeps that much.
#[derive(Clone, Debug)]
pub struct Pool {
    budget: Arc<Semaphore>,
    units: u32,
    limits: Limits,
    jobs: mpsc::Sender<Job>,
    large_jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Start `n` decode threads taking jobs from one queue; they end when every sender is gone.
fn decode_threads(n: usize) -> mpsc::Sender<Job> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..n {
        let queue = Arc::clone(&queue);
        let spawned = std::thread::Builder::new()
            .name(format!("decode-{i}"))
            .spawn(move || {
                loop {
                    let job = match queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    };
                    // A decoder panic fails its file (its answer channel is dropped), not
                    // the thread.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            });
        if spawned.is_err() && i == 0 {
            rocket::error!("could not start a decode thread");
        }
    }
    jobs
}

/// Memory of the budget held by one admitted decode, given back when dropped.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool admitting decodes while their estimates add up to at most `memory_budget`
    /// bytes.
    pub fn new(limits: Limits, memory_budget: u64) -> Pool {
        let units = (memory_budget / UNIT).clamp(1, u64::from(u32::MAX >> 4)) as u32;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pool {
            budget: Arc::new(Semaphore::new(units as usize)),
            units,
            limits,
            jobs: decode_threads(cores.saturating_sub(1).max(1)),
            large_jobs: decode_threads(1),
        }
    }

    /// The limits this pool enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Wait until `cost` bytes fit the budget and hold them. A cost larger than the whole
    /// budget waits for all of it, so it runs alone. Waiters are served in order (the
    /// semaphore is fair), so a large decode is not starved by a stream of small ones.
    pub async fn admit(&self, cost: u64) -> Admission {
        let units = cost.div_ceil(UNIT).clamp(1, u64::from(self.units)) as u32;
        let permit = Arc::clone(&self.budget)
            .acquire_many_owned(units)
            .await
            .expect("the budget semaphore is never closed");
        Admission { _permit: permit }
    }

    /// Ingest `body` once the memory it needs fits the budget. Only then is a spooled body
    /// read into memory. The admission comes back with the result: the stripped original
    /// is part of the estimate, so hold it until the blobs are written.
    pub async fn ingest(
        &self,
        body: Body,
        name: String,
    ) -> Result<(Ingested, Admission), IngestError> {
        let limits = self.limits;
        let (body, header) = rocket::tokio::task::spawn_blocking(move || {
            let header = body.head(HEAD_BYTES).ok().and_then(probe);
            (body, header)
        })
        .await
        .map_err(|e| decoder_failed(&name, &e.to_string()))?;
        let cost = decode_cost(body.len(), header, &limits);
        let large = cost.div_ceil(UNIT) * 2 > u64::from(self.units);
        let admitted = self.admit(cost).await;
        let failed_name = name.clone();
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let result = body
                .load()
                .map_err(|e| IngestError::Unreadable {
                    name: name.clone(),
                    reason: e.to_string(),
                })
                .and_then(|bytes| ingest(&bytes, &name, &limits));
            let _ = answer.send(result);
        });
        let failed = || decoder_failed(&failed_name, "it stopped before finishing");
        let queue = if large { &self.large_jobs } else { &self.jobs };
        queue.send(job).map_err(|_| failed())?;
        let ingested = answered.await.map_err(|_| failed())??;
        Ok((ingested, admitted))
    }
}

fn decoder_failed(name: &str, why: &str) -> IngestError {
    IngestError::Corrupt {
        name: clean_name(name),
        format: "an image",
        reason: format!("the decoder failed ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn limits() -> Limits {
        Limits {
            max_file_bytes: 50_000_000,
            max_pixels: 50_000_000,
            max_dimension: 20_000,
        }
    }

    #[rocket::async_test]
    async fn decodes_are_admitted_while_their_estimates_fit_the_budget() {
        let pool = Pool::new(limits(), 100 * UNIT);
        let first = pool.admit(60 * UNIT).await;
        let second = pool.admit(30 * UNIT).await;
        // 60 + 30 + 20 > 100: the third waits until enough is given back.
        let mut third = Box::pin(pool.admit(20 * UNIT));
        assert!((&mut third).now_or_never().is_none());
        drop(second);
        let third = (&mut third).now_or_never().expect("60 + 20 fit");
        // What was given back is available again.
        drop((first, third));
        assert!(pool.admit(100 * UNIT).now_or_never().is_some());
    }

    #[rocket::async_test]
    async fn a_decode_larger_than_the_budget_runs_alone() {
        let pool = Pool::new(limits(), 100 * UNIT);
        let small = pool.admit(UNIT).await;
        let mut big = Box::pin(pool.admit(400 * UNIT));
        assert!(
            (&mut big).now_or_never().is_none(),
            "waits for the whole budget"
        );
        drop(small);
        let big = (&mut big).now_or_never().expect("alone, it runs");
        // Nothing else runs beside it, and waiters behind it keep their order.
        let mut tiny = Box::pin(pool.admit(1));
        assert!((&mut tiny).now_or_never().is_none());
        drop(big);
        assert!((&mut tiny).now_or_never().is_some());
    }

    #[test]
    fn the_estimate_follows_the_header() {
        let limits = limits();
        // A 12-megapixel RGB photo of 5 MB: two copies of the file, two of the frame.
        let cost = decode_cost(5_000_000, Some((4000, 3000, 3)), &limits);
        assert_eq!(cost, 10_000_000 + 72_000_000 + RENDITION_BYTES);
        // RGBA costs more than RGB; 50 megapixels is ~200 MB a frame.
        let rgba = decode_cost(0, Some((10_000, 5_000, 4)), &limits);
        assert_eq!(rgba, 400_000_000 + RENDITION_BYTES);
        // An image the header already refuses is never decoded.
        let refused = decode_cost(1000, Some((30_000, 30_000, 3)), &limits);
        assert_eq!(refused, 2000 + RENDITION_BYTES);
        // No header: the largest frame allowed.
        assert_eq!(
            decode_cost(0, None, &limits),
            2 * 200_000_000 + RENDITION_BYTES
        );
    }

    #[test]
    fn dimensions_come_from_the_first_bytes() {
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::new(640, 480))
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encode");
        assert_eq!(probe(Cursor::new(png.clone())), Some((640, 480, 3)));
        // The header alone is enough.
        png.truncate(64);
        assert_eq!(probe(Cursor::new(png)), Some((640, 480, 3)));
        assert_eq!(probe(Cursor::new(b"not an image".to_vec())), None);
    }

    #[test]
    fn an_animation_is_charged_its_compositing_canvases() {
        let mut apng = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut apng, 64, 32);
            encoder.set_color(png::ColorType::Rgba);
            encoder.set_animated(2, 0).expect("animated");
            let mut writer = encoder.write_header().expect("header");
            for _ in 0..2 {
                writer.write_image_data(&[9; 64 * 32 * 4]).expect("frame");
            }
            writer.finish().expect("finished");
        }
        let still = 4;
        assert_eq!(
            probe(Cursor::new(apng.clone())),
            Some((64, 32, still + ANIMATION_BYTES_PER_PIXEL))
        );
        // Known from the head alone (cut inside the first frame's data), as the pool reads it.
        apng.truncate(120);
        assert_eq!(
            probe(Cursor::new(apng)),
            Some((64, 32, still + ANIMATION_BYTES_PER_PIXEL))
        );
    }

    #[test]
    fn a_jpeg_counts_the_frame_it_is_decoded_at() {
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 50)
            .encode(
                &vec![128; 4000 * 3000],
                4000,
                3000,
                jpeg_encoder::ColorType::Luma,
            )
            .expect("encode");
        // Decoded at 1/2 for its renditions, as RGB.
        assert_eq!(probe(Cursor::new(jpeg.clone())), Some((2000, 1500, 3)));
        jpeg.truncate(1024);
        assert_eq!(probe(Cursor::new(jpeg)), Some((2000, 1500, 3)));
    }
}
