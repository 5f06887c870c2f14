//! Deterministic photo-like test images: value-noise scenes rendered to JPEG, and the EXIF
//! orientation block a phone would add.

use super::{H, W};

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

pub fn render_photo(seed: u32) -> Vec<u8> {
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
pub fn exif_orientation(value: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // header, IFD at 8, one entry
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]); // 0x0112 SHORT ×1
    tiff.extend_from_slice(&value.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, no next IFD
    let body = [b"Exif\0\0".as_slice(), &tiff].concat();
    let len = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, 0xE1], &len[..], &body].concat()
}
