//! APNG frames composited one at a time onto one 8-bit RGBA canvas, with the delay each
//! `fcTL` gives. Written on the `png` crate rather than taken from `image`'s APNG decoder,
//! which refuses to composite 16-bit frames and turns delays into reduced millisecond
//! ratios that no longer fit APNG's 16-bit fractions.

use std::io::Cursor;

use png::{BlendOp, ColorType, DisposeOp, Transformations};

use crate::domain::ingest::render::Pixels;

/// A frame's delay in seconds, as a fraction (`fcTL`'s, a zero denominator made 100).
pub type Delay = (u16, u16);

/// The composited frames of an APNG.
pub struct Frames<'a> {
    reader: png::Reader<Cursor<&'a [u8]>>,
    canvas: Pixels,
    /// The raw subframe as decoded (8-bit grey, grey+alpha, RGB or RGBA).
    raw: Vec<u8>,
    /// What the last frame leaves behind, applied before the next is drawn: its region
    /// and how it is disposed of (with the pixels under it, for `Previous`).
    dispose: Option<(Region, DisposeOp)>,
    saved: Vec<u8>,
    remaining: u32,
    /// Frames `acTL` declares: the count the decoder will produce.
    pub count: u32,
}

#[derive(Clone, Copy)]
struct Region {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

impl<'a> Frames<'a> {
    /// Open an APNG; its canvas is one `width × height × 4` buffer, the subframe buffer
    /// at most as much again.
    pub fn new(bytes: &'a [u8]) -> Result<Self, String> {
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        // 16-bit samples become 8-bit and palettes and tRNS become RGB(A): a canvas of one
        // kind whatever the file holds.
        decoder.set_transformations(Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
        let info = reader.info();
        let (width, height) = (info.width, info.height);
        let count = info
            .animation_control
            .map(|a| a.num_frames)
            .ok_or("it is not animated")?;
        let canvas_bytes =
            usize::try_from(u64::from(width) * u64::from(height) * 4).map_err(|e| e.to_string())?;
        let mut raw = vec![0; canvas_bytes];
        // A default image outside the animation (no fcTL before IDAT) is the still that
        // APNG-blind viewers show; it is no frame.
        if info.frame_control.is_none() {
            reader.next_frame(&mut raw).map_err(|e| e.to_string())?;
        }
        Ok(Frames {
            reader,
            canvas: Pixels {
                data: vec![0; canvas_bytes],
                width,
                height,
                alpha: true,
            },
            raw,
            dispose: None,
            saved: Vec::new(),
            remaining: count,
            count,
        })
    }

    /// The canvas after the next frame is drawn, with that frame's delay.
    pub fn next_frame(&mut self) -> Result<Option<(&Pixels, Delay)>, String> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        if let Some((region, op)) = self.dispose.take() {
            match op {
                DisposeOp::None => {}
                DisposeOp::Background => self.fill(region, None),
                DisposeOp::Previous => {
                    let saved = std::mem::take(&mut self.saved);
                    self.fill(region, Some(&saved));
                    self.saved = saved;
                }
            }
        }
        let out = self
            .reader
            .next_frame(&mut self.raw)
            .map_err(|e| e.to_string())?;
        let control = self
            .reader
            .info()
            .frame_control
            .ok_or("a frame has no frame control chunk")?;
        let region = Region {
            x: control.x_offset,
            y: control.y_offset,
            w: out.width,
            h: out.height,
        };
        if region.x.saturating_add(region.w) > self.canvas.width
            || region.y.saturating_add(region.h) > self.canvas.height
        {
            return Err("a frame lies outside the canvas".into());
        }
        // The first frame's "previous" is the cleared canvas, as the spec says.
        let op = control.dispose_op;
        if op == DisposeOp::Previous {
            self.saved = self.copy(region);
        }
        // An interlaced frame's rows come out at the whole image's row length (the png
        // crate expands Adam7 passes at that stride); a plain frame's at its own.
        let interlaced = self.reader.info().interlaced;
        self.draw(
            region,
            out.color_type,
            (!interlaced).then_some(out.line_size),
            control.blend_op == BlendOp::Over,
        )?;
        self.dispose = Some((region, op));
        let denom = if control.delay_den == 0 {
            100
        } else {
            control.delay_den
        };
        Ok(Some((&self.canvas, (control.delay_num, denom))))
    }

    fn rows(&self, r: Region) -> impl Iterator<Item = std::ops::Range<usize>> + use<> {
        let stride = self.canvas.width as usize * 4;
        (r.y as usize..(r.y + r.h) as usize).map(move |y| {
            let start = y * stride + r.x as usize * 4;
            start..start + r.w as usize * 4
        })
    }

    fn copy(&self, r: Region) -> Vec<u8> {
        self.rows(r)
            .flat_map(|row| self.canvas.data[row].iter().copied())
            .collect()
    }

    /// Put `from` (a region's saved rows) back, or clear the region to transparent black.
    fn fill(&mut self, r: Region, from: Option<&[u8]>) {
        let width = r.w as usize * 4;
        for (i, row) in self.rows(r).enumerate() {
            let dst = &mut self.canvas.data[row];
            match from.and_then(|f| f.get(i * width..(i + 1) * width)) {
                Some(src) => dst.copy_from_slice(src),
                None => dst.fill(0),
            }
        }
    }

    fn draw(
        &mut self,
        r: Region,
        colour: ColorType,
        line_size: Option<usize>,
        over: bool,
    ) -> Result<(), String> {
        let samples = match colour {
            ColorType::Grayscale => 1,
            ColorType::GrayscaleAlpha => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
            ColorType::Indexed => return Err("a palette was not expanded".into()),
        };
        let line_size = line_size.unwrap_or(self.canvas.width as usize * samples);
        let rows: Vec<_> = self.rows(r).collect();
        for (y, dst_row) in rows.into_iter().enumerate() {
            let src_row = self
                .raw
                .get(y * line_size..y * line_size + r.w as usize * samples)
                .ok_or("a frame is shorter than its header says")?;
            let dst_row = &mut self.canvas.data[dst_row];
            for (src, dst) in src_row
                .chunks_exact(samples)
                .zip(dst_row.chunks_exact_mut(4))
            {
                let px = match *src {
                    [g] => [g, g, g, 255],
                    [g, a] => [g, g, g, a],
                    [r, g, b] => [r, g, b, 255],
                    [r, g, b, a] => [r, g, b, a],
                    _ => unreachable!("chunks of 1 to 4 samples"),
                };
                if over {
                    blend_over(dst, px);
                } else {
                    dst.copy_from_slice(&px);
                }
            }
        }
        Ok(())
    }
}

/// The APNG spec's `APNG_BLEND_OP_OVER`: straight (not premultiplied) alpha.
fn blend_over(dst: &mut [u8], src: [u8; 4]) {
    let sa = u32::from(src[3]);
    if sa == 255 {
        dst.copy_from_slice(&src);
        return;
    }
    if sa == 0 {
        return;
    }
    let da = u32::from(dst[3]);
    // Alpha out, scaled by 255: sa·255 + da·(255 − sa).
    let out = sa * 255 + da * (255 - sa);
    for c in 0..3 {
        let v =
            (u32::from(src[c]) * sa * 255 + u32::from(dst[c]) * da * (255 - sa) + out / 2) / out;
        dst[c] = v.min(255) as u8;
    }
    dst[3] = ((out + 127) / 255) as u8;
}
