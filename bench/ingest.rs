//! Ingest benchmark helper (harness = false); `bench/run.sh` drives it.
//!
//!   cargo bench --bench ingest -- make <dir> <n> [--orientation 1-8]
//!       n deterministic photo-like 4000×3000 JPEGs (q92, 4:2:0) named photo_01.jpg …,
//!       optionally with an EXIF orientation (6 = a phone held upright).
//!   cargo bench --bench ingest -- ingest <dir> [--out <dir>] [--profile] [--ext heic]
//!       times `maiimg::domain::ingest::ingest` on every *.jpg (or *.<ext>, any case) in
//!       <dir>, one at a time on this thread; prints one TSV line per file and the median.
//!       `--out` writes the renditions; `--profile` also times, stage by stage, the pure-Rust
//!       pipeline used before libjpeg-turbo (JPEG only). `bench/heif.sh` uses `--ext`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use maiimg::domain::ingest::{DISPLAY_EDGE, Limits, THUMB_EDGE, fit_within, ingest};

#[path = "ingest/photo.rs"]
mod photo;

use photo::{exif_orientation, render_photo};

const W: u32 = 4000;
const H: u32 = 3000;

fn main() {
    // `cargo bench` appends `--bench`; ignore it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (arg(0), arg(1)) {
        (Some("make"), Some(dir)) => {
            let n = arg(2).and_then(|n| n.parse().ok()).unwrap_or(25);
            let orientation = args
                .iter()
                .position(|a| a == "--orientation")
                .and_then(|i| arg(i + 1)?.parse().ok());
            make(Path::new(dir), n, orientation);
        }
        (Some("ingest"), Some(dir)) => {
            let out = args
                .iter()
                .position(|a| a == "--out")
                .and_then(|i| arg(i + 1));
            let profile = args.iter().any(|a| a == "--profile");
            let ext = args
                .iter()
                .position(|a| a == "--ext")
                .and_then(|i| arg(i + 1))
                .unwrap_or("jpg");
            run_ingest(Path::new(dir), out.map(Path::new), profile, ext);
        }
        _ => {
            eprintln!(
                "usage: ingest make <dir> <n> [--orientation 1-8] | ingest ingest <dir> [--out <dir>] [--profile]"
            );
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Photo-like test images

fn make(dir: &Path, n: u32, orientation: Option<u16>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut total = 0;
    for i in 1..=n {
        let data = render_photo(0x5EED_0000 + i);
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 92);
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
        encoder
            .encode(&data, W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        if let Some(o) = orientation {
            bytes.splice(2..2, exif_orientation(o)); // right after SOI
        }
        let path = dir.join(format!("photo_{i:02}.jpg"));
        std::fs::write(&path, &bytes).unwrap();
        total += bytes.len();
        eprintln!("{}  {:.2} MB", path.display(), bytes.len() as f64 / 1e6);
    }
    eprintln!("{n} photos, {:.1} MB in all", total as f64 / 1e6);
}

// ---------------------------------------------------------------------------------------
// Timing

fn files_of(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    files.sort();
    files
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run_ingest(dir: &Path, out: Option<&Path>, profile: bool, ext: &str) {
    let limits = Limits {
        max_file_bytes: 50 * 1024 * 1024,
        max_pixels: 50_000_000,
        max_dimension: 20_000,
    };
    let files = files_of(dir, ext);
    assert!(!files.is_empty(), "no *.{ext} in {}", dir.display());
    if let Some(out) = out {
        std::fs::create_dir_all(out).unwrap();
    }
    // One untimed run so page faults of first allocations and lazy SIMD dispatch don't count.
    ingest(&std::fs::read(&files[0]).unwrap(), "warmup.jpg", &limits).unwrap();

    println!("#file\tingest_ms\tthumb_bytes\tdisplay_bytes\tthumb_size\tdisplay_size");
    let mut times = Vec::new();
    let mut stages: Vec<Vec<f64>> = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let t = Instant::now();
        let done = ingest(&bytes, &name, &limits).unwrap();
        let elapsed = ms(t);
        times.push(elapsed);
        println!(
            "{name}\t{elapsed:.1}\t{}\t{}\t{}x{}\t{}x{}",
            done.thumb.bytes.len(),
            done.display.bytes.len(),
            done.thumb.width,
            done.thumb.height,
            done.display.width,
            done.display.height
        );
        if let Some(out) = out {
            let stem = path.file_stem().unwrap().to_string_lossy();
            std::fs::write(out.join(format!("{stem}_thumb.jpg")), &done.thumb.bytes).unwrap();
            std::fs::write(out.join(format!("{stem}_display.jpg")), &done.display.bytes).unwrap();
        }
        drop(done);
        if profile {
            stages.push(profile_stages(&bytes));
        }
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!("#mean_ms\t{mean:.1}");
    println!("#median_ms\t{:.1}", median(times));
    if profile {
        print_profile(&stages);
    }
}

// ---------------------------------------------------------------------------------------
// --profile: the pure-Rust pipeline this server used before libjpeg-turbo (image/zune-jpeg,
// fast_image_resize, jpeg-encoder), timed stage by stage, plus a few alternatives. Not the
// real code path: compare its sum with ingest_ms.

/// Label of each figure `profile_stages` returns, in order; the first five are the pipeline.
const STAGES: &[&str] = &[
    "ms  decode (image/zune-jpeg → RGB8)",
    "ms  resize 4000→2048 CatmullRom",
    "ms  resize 2048→480 CatmullRom (from the display pixels)",
    "ms  encode display q80 4:2:0, optimised Huffman",
    "ms  encode thumb q80 4:2:0, optimised Huffman",
    "ms    alt: resize 4000→2048 Bilinear",
    "ms    alt: resize 4000→2048 Box",
    "ms    alt: resize 4000→2048 Lanczos3",
    "ms    alt: resize 4000→2048 SuperSampling(Box, 2)",
    "ms    alt: encode display q80 4:2:0, standard Huffman",
    "ms  EXIF-rotated only: rotate90 of the full image",
    "ms  EXIF-rotated only: re-encode the 12 MP original q92 4:2:0, optimised Huffman",
    "ms    alt: … standard Huffman",
    "%   display bytes with standard ÷ optimised Huffman tables",
];

fn resize(data: &[u8], (w, h): (u32, u32), edge: u32, alg: ResizeAlg) -> (Vec<u8>, (u32, u32)) {
    let (dw, dh) = fit_within(w, h, edge);
    let src = ImageRef::new(w, h, data, PixelType::U8x3).unwrap();
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(alg))
        .unwrap();
    (dst.into_vec(), (dw, dh))
}

fn encode(data: &[u8], (w, h): (u32, u32), optimise: bool) -> usize {
    encode_q(data, (w, h), 80, optimise)
}

fn encode_q(data: &[u8], (w, h): (u32, u32), quality: u8, optimise: bool) -> usize {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.set_optimized_huffman_tables(optimise);
    encoder
        .encode(data, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    bytes.len()
}

fn profile_stages(bytes: &[u8]) -> Vec<f64> {
    let conv = ResizeAlg::Convolution;
    let mut out = Vec::new();
    let mut timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        out.push(ms(t));
    };
    let mut full = image::RgbImage::default();
    timed(&mut || {
        full = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Jpeg)
            .decode()
            .unwrap()
            .into_rgb8();
    });
    let size = full.dimensions();
    let (mut display, mut dsize) = (Vec::new(), (0, 0));
    timed(&mut || {
        (display, dsize) = resize(&full, size, DISPLAY_EDGE, conv(FilterType::CatmullRom))
    });
    let (mut thumb, mut tsize) = (Vec::new(), (0, 0));
    timed(&mut || {
        (thumb, tsize) = resize(&display, dsize, THUMB_EDGE, conv(FilterType::CatmullRom))
    });
    let mut optimised = 0;
    timed(&mut || optimised = encode(&display, dsize, true));
    timed(&mut || {
        encode(&thumb, tsize, true);
    });
    for alg in [
        conv(FilterType::Bilinear),
        conv(FilterType::Box),
        conv(FilterType::Lanczos3),
        ResizeAlg::SuperSampling(FilterType::Box, 2),
    ] {
        timed(&mut || drop(resize(&full, size, DISPLAY_EDGE, alg)));
    }
    let mut standard = 0;
    timed(&mut || standard = encode(&display, dsize, false));
    let mut rotated = image::RgbImage::default();
    timed(&mut || rotated = image::imageops::rotate90(&full));
    let rsize = rotated.dimensions();
    timed(&mut || {
        encode_q(&rotated, rsize, 92, true);
    });
    timed(&mut || {
        encode_q(&rotated, rsize, 92, false);
    });
    out.push(100.0 * standard as f64 / optimised as f64);
    out
}

fn print_profile(stages: &[Vec<f64>]) {
    println!(
        "#profile: median over {} files of the stages of the pure-Rust pipeline (before libjpeg-turbo)",
        stages.len()
    );
    let figure = |i: usize| median(stages.iter().map(|s| s[i]).collect());
    for (i, label) in STAGES.iter().enumerate() {
        println!("#stage\t{:.1}\t{label}", figure(i));
    }
    let sum: f64 = (0..5).map(figure).sum();
    println!("#stage\t{sum:.1}\tms  sum of the five pipeline stages (compare ingest_ms)");
    let rotated = sum + figure(10) + figure(11);
    println!("#stage\t{rotated:.1}\tms  … plus the two EXIF-rotated stages");
}
