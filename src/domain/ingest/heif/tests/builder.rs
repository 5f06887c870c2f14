//! Small HEIF files written in code: items, properties and references as a test names them.

/// A box, with the 64-bit size form when `large`.
pub fn bx(large: bool, kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if large {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(&(body.len() as u64 + 16).to_be_bytes());
    } else {
        out.extend_from_slice(&(body.len() as u32 + 8).to_be_bytes());
        out.extend_from_slice(kind);
    }
    out.extend_from_slice(body);
    out
}

pub fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
    b.extend_from_slice(body);
    bx(false, kind, &b)
}

pub fn ispe(w: u32, h: u32) -> Vec<u8> {
    full(b"ispe", 0, 0, &[w.to_be_bytes(), h.to_be_bytes()].concat())
}
pub fn irot(quarters: u8) -> Vec<u8> {
    bx(false, b"irot", &[quarters])
}
pub fn imir(axis: u8) -> Vec<u8> {
    bx(false, b"imir", &[axis])
}
pub fn clap(v: [u32; 8]) -> Vec<u8> {
    bx(
        false,
        b"clap",
        &v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<_>>(),
    )
}
pub fn nclx(p: u16, t: u16, m: u16, full_range: bool) -> Vec<u8> {
    let mut b = b"nclx".to_vec();
    for x in [p, t, m] {
        b.extend_from_slice(&x.to_be_bytes());
    }
    b.push(if full_range { 0x80 } else { 0 });
    bx(false, b"colr", &b)
}
pub fn icc(profile: &[u8]) -> Vec<u8> {
    bx(false, b"colr", &[b"prof", profile].concat())
}
pub fn pixi(depth: u8, channels: u8) -> Vec<u8> {
    let mut b = vec![channels];
    b.extend(std::iter::repeat_n(depth, usize::from(channels)));
    full(b"pixi", 0, 0, &b)
}
/// An `hvcC` whose luma bit depth is `depth` (the rest zero: the parser does not read it).
pub fn hvcc(depth: u8) -> Vec<u8> {
    let mut b = vec![1; 23];
    b[17] = 0xF8 | (depth - 8);
    bx(false, b"hvcC", &b)
}
pub fn av1c(depth: u8) -> Vec<u8> {
    let flags = match depth {
        12 => 0x60,
        10 => 0x40,
        _ => 0,
    };
    bx(false, b"av1C", &[0x81, 0, flags | 0x0C, 0])
}
pub fn auxc(urn: &str) -> Vec<u8> {
    full(b"auxC", 0, 0, &[urn.as_bytes(), &[0]].concat())
}
pub const ALPHA: &str = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";

/// Grid item data: `rows` × `columns` tiles making `w` × `h`.
pub fn grid(rows: u8, columns: u8, w: u16, h: u16) -> Vec<u8> {
    [
        &[0, 0, rows - 1, columns - 1][..],
        &w.to_be_bytes(),
        &h.to_be_bytes(),
    ]
    .concat()
}

pub struct Item {
    pub id: u32,
    pub kind: &'static [u8; 4],
    pub hidden: bool,
    pub content_type: &'static str,
    pub data: Vec<u8>,
    pub in_idat: bool,
    /// The data is written as this many extents (at least one).
    pub extents: usize,
    /// 1-based property indices and whether each is essential.
    pub props: Vec<(u16, bool)>,
}

pub fn item(id: u32, kind: &'static [u8; 4], data: &[u8], props: &[u16]) -> Item {
    Item {
        id,
        kind,
        hidden: false,
        content_type: "",
        data: data.to_vec(),
        in_idat: false,
        extents: 1,
        props: props.iter().map(|&p| (p, false)).collect(),
    }
}

#[derive(Default)]
pub struct File {
    pub major: Option<&'static [u8; 4]>,
    pub primary: u32,
    pub items: Vec<Item>,
    pub props: Vec<Vec<u8>>,
    pub refs: Vec<(&'static [u8; 4], u32, Vec<u32>)>,
    /// 64-bit sizes on the top-level and meta boxes.
    pub large: bool,
    /// Boxes before meta, inside meta, and after mdat.
    pub top: Vec<Vec<u8>>,
    pub in_meta: Vec<Vec<u8>>,
    pub tail: Vec<Vec<u8>>,
}

impl File {
    fn meta(&self, mdat_start: u32) -> Vec<u8> {
        let wide = self.items.iter().any(|i| i.id > 0xFFFF);
        let id = |out: &mut Vec<u8>, id: u32| {
            if wide {
                out.extend_from_slice(&id.to_be_bytes());
            } else {
                out.extend_from_slice(&(id as u16).to_be_bytes());
            }
        };
        let v = u8::from(wide);
        let mut body = full(
            b"hdlr",
            0,
            0,
            &[&[0; 4][..], b"pict", &[0; 12], b"a name\0"].concat(),
        );
        let mut pitm = Vec::new();
        id(&mut pitm, self.primary);
        body.extend(full(b"pitm", v, 0, &pitm));

        let mut iinf = if wide { vec![0; 4] } else { vec![0; 2] };
        for i in &self.items {
            let mut e = Vec::new();
            id(&mut e, i.id);
            e.extend_from_slice(&[0, 0]);
            e.extend_from_slice(i.kind);
            e.extend_from_slice(b"item name\0");
            if !i.content_type.is_empty() {
                e.extend_from_slice(i.content_type.as_bytes());
                e.push(0);
            }
            iinf.extend(full(b"infe", 2 + v, u32::from(i.hidden), &e));
        }
        body.extend(full(b"iinf", v, 0, &iinf));

        let mut iloc = vec![0x44, 0x00];
        if wide {
            iloc.extend_from_slice(&(self.items.len() as u32).to_be_bytes());
        } else {
            iloc.extend_from_slice(&(self.items.len() as u16).to_be_bytes());
        }
        let (mut in_mdat, mut in_idat) = (0u32, 0u32);
        let mut idat = Vec::new();
        for i in &self.items {
            id(&mut iloc, i.id);
            iloc.extend_from_slice(&u16::from(i.in_idat).to_be_bytes());
            iloc.extend_from_slice(&[0, 0]);
            let chunk = i.data.len().div_ceil(i.extents.max(1)).max(1);
            let parts: Vec<&[u8]> = i.data.chunks(chunk).collect();
            iloc.extend_from_slice(&(parts.len() as u16).to_be_bytes());
            for p in parts {
                let at = if i.in_idat {
                    idat.extend_from_slice(p);
                    in_idat += p.len() as u32;
                    in_idat - p.len() as u32
                } else {
                    in_mdat += p.len() as u32;
                    mdat_start + in_mdat - p.len() as u32
                };
                iloc.extend_from_slice(&at.to_be_bytes());
                iloc.extend_from_slice(&(p.len() as u32).to_be_bytes());
            }
        }
        body.extend(full(b"iloc", 1 + v, 0, &iloc));

        if !self.refs.is_empty() {
            let mut iref = Vec::new();
            for (kind, from, to) in &self.refs {
                let mut r = Vec::new();
                id(&mut r, *from);
                r.extend_from_slice(&(to.len() as u16).to_be_bytes());
                for t in to {
                    id(&mut r, *t);
                }
                iref.extend(bx(false, kind, &r));
            }
            body.extend(full(b"iref", v, 0, &iref));
        }

        let ipco = bx(false, b"ipco", &self.props.concat());
        let mut ipma = (self.items.len() as u32).to_be_bytes().to_vec();
        for i in &self.items {
            id(&mut ipma, i.id);
            ipma.push(i.props.len() as u8);
            for &(p, essential) in &i.props {
                ipma.push(p as u8 | if essential { 0x80 } else { 0 });
            }
        }
        let ipma = full(b"ipma", v, 0, &ipma);
        body.extend(bx(false, b"iprp", &[ipco, ipma].concat()));
        if !idat.is_empty() {
            body.extend(bx(false, b"idat", &idat));
        }
        for extra in &self.in_meta {
            body.extend_from_slice(extra);
        }
        bx(self.large, b"meta", &[&[0u8; 4][..], &body].concat())
    }

    pub fn build(&self) -> Vec<u8> {
        let major = self.major.unwrap_or(b"heic");
        let ftyp = bx(
            self.large,
            b"ftyp",
            &[&major[..], &[0; 4], b"mif1", major].concat(),
        );
        let top: Vec<u8> = self.top.concat();
        let header = if self.large { 16 } else { 8 };
        let before = (ftyp.len() + top.len() + self.meta(0).len() + header) as u32;
        let mdat: Vec<u8> = self
            .items
            .iter()
            .filter(|i| !i.in_idat)
            .flat_map(|i| i.data.iter().copied())
            .collect();
        [
            ftyp,
            top,
            self.meta(before),
            bx(self.large, b"mdat", &mdat),
            self.tail.concat(),
        ]
        .concat()
    }
}
