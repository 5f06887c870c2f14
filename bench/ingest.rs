//! Ingest benchmark helper (harness = false); `bench/run.sh` drives it.
//!
//!   cargo bench --bench ingest -- make <dir> <n> [--orientation 1-8]
//!       n deterministic photo-like 4000×3000 JPEGs (q92, 4:2:0) named photo_01.jpg …,
//!       optionally with an EXIF orientation (6 = a phone held upright).
//!   cargo bench --bench ingest -- ingest <dir> [--out <dir>] [--profile]
//!       times `maiimg::domain::ingest::ingest` on every *.jpg in <dir>, one at a time on
//!       this thread; prints one TSV line per file and the median. `--out` writes the
//!       renditions; `--profile` also times a replica of the pipeline stage by stage.

#![allow(missing_docs, clippy::unwrap_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use maiimg::domain::ingest::{DISPLAY_EDGE, Limits, THUMB_EDGE, fit_within, ingest};

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
            run_ingest(Path::new(dir), out.map(Path::new), profile);
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

fn hash(seed: u32, x: i32, y: i32) -> u32 {
    let mut h = seed ^ (x as u32).wrapping_mul(0x27d4_eb2d) ^ (y as u32).wrapping_mul(0x1656_67b1);
    h ^= h >> 15;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

fn unit(seed: u32, x: i32, y: i32) -> f32 {
    hash(seed, x, y) as f32 / u32::MAX as f32
}

/// Smooth value noise in 0..1 with a lattice of `cell` pixels.
fn value_noise(seed: u32, x: f32, y: f32, cell: f32) -> f32 {
    let (fx, fy) = (x / cell, y / cell);
    let (ix, iy) = (fx.floor() as i32, fy.floor() as i32);
    let (tx, ty) = (fx - ix as f32, fy - iy as f32);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let a = unit(seed, ix, iy) + (unit(seed, ix + 1, iy) - unit(seed, ix, iy)) * sx;
    let b = unit(seed, ix, iy + 1) + (unit(seed, ix + 1, iy + 1) - unit(seed, ix, iy + 1)) * sx;
    a + (b - a) * sy
}

/// Fractal noise from `cell` pixels down to `finest`, each octave `gain` times as strong.
fn fbm_gain(seed: u32, x: f32, y: f32, mut cell: f32, finest: f32, gain: f32) -> f32 {
    let (mut sum, mut amp, mut norm, mut octave) = (0.0, 1.0, 0.0, 0);
    while cell >= finest {
        sum += amp * value_noise(seed.wrapping_add(octave * 7919), x, y, cell);
        norm += amp;
        amp *= gain;
        cell *= 0.5;
        octave += 1;
    }
    sum / norm
}

fn fbm(seed: u32, x: f32, y: f32, cell: f32, finest: f32) -> f32 {
    fbm_gain(seed, x, y, cell, finest, 0.6)
}

struct Scene {
    seed: u32,
    horizon: f32,
    sun: (f32, f32),
    /// (left, right, top) of each building, in pixels; bottom is the horizon.
    buildings: Vec<(f32, f32, f32)>,
}

impl Scene {
    fn new(seed: u32) -> Scene {
        let r = |i: i32| unit(seed, i, 99);
        let horizon = H as f32 * (0.4 + 0.2 * r(0));
        let buildings = (0..(3 + (r(1) * 6.0) as i32))
            .map(|i| {
                let left = r(10 + i) * W as f32;
                let width = 150.0 + r(20 + i) * 500.0;
                (left, left + width, horizon - 200.0 - r(30 + i) * 900.0)
            })
            .collect();
        Scene {
            seed,
            horizon,
            sun: (r(2) * W as f32, r(3) * horizon * 0.6),
            buildings,
        }
    }

    /// Linear-ish RGB in 0..255 (before sensor noise).
    fn pixel(&self, x: u32, y: u32) -> [f32; 3] {
        let (xf, yf) = (x as f32, y as f32);
        let s = self.seed;
        let ridge = self.horizon + 120.0 * (fbm(s ^ 1, xf, 0.0, 800.0, 50.0) - 0.5);
        let mut rgb = if yf < ridge {
            // Sky: vertical gradient, a sun glow and soft clouds.
            let t = yf / ridge;
            let mut c = [60.0 + 110.0 * t, 110.0 + 90.0 * t, 200.0 + 40.0 * t];
            let d = ((xf - self.sun.0).powi(2) + (yf - self.sun.1).powi(2)).sqrt();
            let glow = (-d / 500.0).exp() * 120.0;
            let cloud = (fbm(s ^ 2, xf, yf * 2.0, 700.0, 6.0) - 0.45).max(0.0) * 2.5;
            for (i, v) in c.iter_mut().enumerate() {
                *v += glow * [1.0, 0.9, 0.6][i];
                *v = *v * (1.0 - cloud) + 235.0 * cloud;
            }
            c
        } else {
            // Ground: foliage-like texture down to 2 px, darker towards the bottom.
            let near = (yf - ridge) / (H as f32 - ridge);
            let coarse = fbm(s ^ 3, xf, yf, 400.0, 25.0);
            let fine = fbm_gain(s ^ 4, xf, yf, 24.0, 1.5, 0.9);
            let shade = (0.35 + 0.7 * coarse) * (1.0 + 2.2 * (fine - 0.5)) - 0.15 * near;
            let hue = fbm(s ^ 5, xf, yf, 300.0, 40.0);
            [
                (90.0 + 90.0 * hue) * shade,
                (120.0 + 40.0 * (1.0 - hue)) * shade,
                (50.0 + 20.0 * hue) * shade,
            ]
        };
        // Buildings: hard edges, window grids, slightly textured walls.
        for (i, &(left, right, top)) in self.buildings.iter().enumerate() {
            if xf >= left && xf < right && yf >= top && yf < ridge + 40.0 {
                let tone = 90.0 + 120.0 * unit(s, i as i32, 7);
                let wall = tone * (0.85 + 0.3 * fbm(s ^ 6, xf, yf, 16.0, 2.0));
                let (wx, wy) = ((xf - left) % 48.0, (yf - top) % 64.0);
                let window = wx > 12.0 && wx < 36.0 && wy > 14.0 && wy < 50.0;
                rgb = if window {
                    let lit = unit(
                        s,
                        ((xf - left) / 48.0) as i32,
                        ((yf - top) / 64.0) as i32 + 1000 * i as i32,
                    );
                    if lit > 0.7 {
                        [230.0, 210.0, 150.0]
                    } else {
                        [40.0, 50.0, 60.0]
                    }
                } else {
                    [wall, wall * 0.95, wall * 0.9]
                };
            }
        }
        // Vignetting.
        let (dx, dy) = (xf / W as f32 - 0.5, yf / H as f32 - 0.5);
        let v = 1.0 - 0.5 * (dx * dx + dy * dy);
        rgb.map(|c| c * v)
    }
}

fn render_photo(seed: u32) -> Vec<u8> {
    let scene = Scene::new(seed);
    let mut data = vec![0u8; (W * H * 3) as usize];
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rows_per = (H as usize).div_ceil(threads);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in data.chunks_mut(rows_per * W as usize * 3).enumerate() {
            let scene = &scene;
            scope.spawn(move || {
                for (i, px) in chunk.chunks_exact_mut(3).enumerate() {
                    let n = chunk_index * rows_per * W as usize + i;
                    let (x, y) = ((n % W as usize) as u32, (n / W as usize) as u32);
                    let rgb = scene.pixel(x, y);
                    // Sensor noise: luma ±6, a little chroma.
                    let h = hash(seed ^ 0xABCD, x as i32, y as i32);
                    let luma = ((h & 0xFF) as f32 + ((h >> 8) & 0xFF) as f32) / 510.0 - 0.5;
                    for (c, out) in px.iter_mut().enumerate() {
                        let chroma = ((h >> (16 + 5 * c)) & 0x1F) as f32 / 31.0 - 0.5;
                        *out = (rgb[c] + 12.0 * luma + 4.0 * chroma).clamp(0.0, 255.0) as u8;
                    }
                }
            });
        }
    });
    data
}

/// An APP1 segment holding only an EXIF orientation tag (little-endian TIFF, one IFD entry).
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // header, IFD at 8, one entry
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]); // 0x0112 SHORT ×1
    tiff.extend_from_slice(&value.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, no next IFD
    let body = [b"Exif\0\0".as_slice(), &tiff].concat();
    let len = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, 0xE1], &len[..], &body].concat()
}

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

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
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

fn run_ingest(dir: &Path, out: Option<&Path>, profile: bool) {
    let limits = Limits {
        max_file_bytes: 50 * 1024 * 1024,
        max_pixels: 50_000_000,
        max_dimension: 20_000,
    };
    let files = jpegs(dir);
    assert!(!files.is_empty(), "no *.jpg in {}", dir.display());
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
// --profile: a replica of the pipeline in render.rs (same crates, same settings), timed stage
// by stage, plus a few alternatives. Not the real code path: compare its sum with ingest_ms.

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
        "#profile: median over {} files of a replica of render.rs (same crates and settings)",
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
