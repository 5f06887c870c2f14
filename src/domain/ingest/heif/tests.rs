#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builder;

use builder::*;

use super::*;

const FRAME: &[u8] = b"coded image bytes, not decoded by these tests";

/// One AV1 item, 64×48, 10-bit, nclx colour.
fn av1() -> File {
    File {
        major: Some(b"avif"),
        primary: 1,
        items: vec![item(1, b"av01", FRAME, &[1, 2, 3, 4])],
        props: vec![ispe(64, 48), av1c(10), nclx(1, 13, 6, false), pixi(10, 3)],
        ..File::default()
    }
}

/// A 2×2 grid (item 10, in idat) of HEVC tiles 32×32 making 60×50, Display-P3-ish ICC.
fn hevc_grid() -> File {
    let mut items: Vec<Item> = (1..=4)
        .map(|id| item(id, b"hvc1", FRAME, &[1, 2]))
        .collect();
    for i in &mut items {
        i.hidden = true;
    }
    let mut g = item(10, b"grid", &grid(2, 2, 60, 50), &[3, 4, 5]);
    g.in_idat = true;
    items.push(g);
    File {
        primary: 10,
        items,
        props: vec![
            hvcc(8),
            ispe(32, 32),
            ispe(60, 50),
            icc(b"an ICC profile"),
            irot(1),
        ],
        refs: vec![(b"dimg", 10, vec![1, 2, 3, 4])],
        ..File::default()
    }
}

fn top_kinds(file: &[u8]) -> Vec<[u8; 4]> {
    boxes::children(file).map(|b| b.unwrap().kind).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Strip, then check what a stripped file must be: the same image, parsed again, fixed point.
fn strip_checked(file: &[u8]) -> (Heif, Vec<u8>) {
    let before = parse(file).unwrap();
    let clean = strip(file).unwrap();
    let after = parse(&clean).unwrap();
    assert_eq!(after.primary, before.primary);
    assert_eq!(after.transforms, before.transforms);
    assert_eq!(after.colour, before.colour);
    assert_eq!(after.alpha, before.alpha);
    assert_eq!(after.exif, None);
    assert_eq!(strip(&clean).unwrap(), clean, "strip is not idempotent");
    for tile in &before.primary.tiles {
        assert_eq!(item_data(file, tile.item), item_data(&clean, tile.item));
    }
    assert_eq!(top_kinds(&clean)[..2], [*b"ftyp", *b"meta"]);
    (after, clean)
}

#[test]
fn an_av1_image_is_described() {
    let h = parse(&av1().build()).unwrap();
    assert_eq!(h.brand, Brand::Avif);
    assert_eq!(h.primary.codec, Codec::Av1);
    assert_eq!(h.primary.layout, Layout::Single);
    assert_eq!((h.primary.width, h.primary.height), (64, 48));
    assert_eq!(h.primary.bit_depth, 10);
    assert_eq!(h.primary.tiles[0].config, av1c(10)[8..]);
    let nclx = Nclx {
        primaries: 1,
        transfer: 13,
        matrix: 6,
        full_range: false,
    };
    assert_eq!(
        h.colour,
        Colour {
            icc: None,
            nclx: Some(nclx)
        }
    );
    assert_eq!(h.transforms, vec![]);
    assert_eq!(h.upright_size(), (64, 48));
    strip_checked(&av1().build());
}

#[test]
fn bit_depth_comes_from_the_configuration_without_pixi() {
    let mut f = av1();
    f.items[0].props = vec![1, 2].into_iter().map(|p| (p, false)).collect();
    f.props[1] = av1c(12);
    assert_eq!(parse(&f.build()).unwrap().primary.bit_depth, 12);
    let mut f = hevc_grid();
    f.props[0] = hvcc(10);
    assert_eq!(parse(&f.build()).unwrap().primary.bit_depth, 10);
}

#[test]
fn sixty_four_bit_box_sizes_read_as_thirty_two_bit_ones() {
    let mut large = hevc_grid();
    large.large = true;
    let (a, b) = (large.build(), hevc_grid().build());
    assert_eq!(a.len(), b.len() + 3 * 8);
    assert_eq!(parse(&a).unwrap(), parse(&b).unwrap());
    let (_, clean) = strip_checked(&a);
    assert_eq!(clean, strip(&b).unwrap());
    // Size 0: the last box runs to the end of the file.
    let mut open = b.clone();
    let mdat = b.len() - 8 - FRAME.len() * 4;
    open[mdat..mdat + 4].copy_from_slice(&[0; 4]);
    assert_eq!(parse(&open).unwrap(), parse(&b).unwrap());
}

#[test]
fn an_item_in_several_extents_is_joined_and_written_as_one() {
    let mut f = av1();
    f.items[0].extents = 5;
    let file = f.build();
    assert_eq!(item_data(&file, 1).unwrap(), FRAME);
    let (_, clean) = strip_checked(&file);
    assert_eq!(item_data(&clean, 1).unwrap(), FRAME);
    assert_eq!(clean, strip(&av1().build()).unwrap());
}

#[test]
fn a_grid_in_idat_keeps_its_tiles_and_its_idat() {
    let file = hevc_grid().build();
    let h = parse(&file).unwrap();
    assert_eq!(h.brand, Brand::Heic);
    assert_eq!(
        h.primary.layout,
        Layout::Grid {
            rows: 2,
            columns: 2
        }
    );
    assert_eq!((h.primary.width, h.primary.height), (60, 50));
    assert_eq!(
        h.primary.tiles.iter().map(|t| t.item).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(h.primary.decoded_pixels(), 4 * 32 * 32);
    assert_eq!(h.colour.icc.as_deref(), Some(&b"an ICC profile"[..]));
    assert_eq!(h.transforms, vec![Transform::Rotate(90)]);
    assert_eq!(h.upright_size(), (50, 60));
    assert_eq!(
        tile_data(&file, &h.primary).unwrap(),
        vec![FRAME.to_vec(); 4]
    );
    let (_, clean) = strip_checked(&file);
    assert_eq!(item_data(&clean, 10).unwrap(), grid(2, 2, 60, 50));
    let top = container::top_level(&clean).unwrap();
    let m = meta::parse(top.meta).unwrap();
    assert!(m.locations[&10].in_idat);
    assert!(!m.locations[&1].in_idat);
}

#[test]
fn transforms_keep_their_order_and_the_crop_applies_before_the_turn() {
    let mut f = av1();
    f.props
        .extend([clap([40, 1, 30, 1, 0, 1, 0, 1]), irot(3), imir(0)]);
    f.items[0].props.extend([(5, true), (6, true), (7, true)]);
    let h = parse(&f.build()).unwrap();
    let crop = CleanAperture {
        width: (40, 1),
        height: (30, 1),
        horizontal_offset: (0, 1),
        vertical_offset: (0, 1),
    };
    assert_eq!(
        h.transforms,
        vec![
            Transform::Crop(crop),
            Transform::Rotate(270),
            Transform::Mirror(Mirror::LeftRight)
        ]
    );
    assert_eq!(crop.rect(64, 48), (12, 9, 40, 30));
    assert_eq!(h.upright_size(), (30, 40));
    strip_checked(&f.build());

    // imir before irot is another picture: the order is what the file lists.
    let mut f = av1();
    f.props.extend([imir(1), irot(1)]);
    f.items[0].props.extend([(5, true), (6, true)]);
    let h = parse(&f.build()).unwrap();
    assert_eq!(
        h.transforms,
        vec![Transform::Mirror(Mirror::TopBottom), Transform::Rotate(90)]
    );
    let (after, _) = strip_checked(&f.build());
    assert_eq!(after.transforms, h.transforms);
}

/// The primary with everything a phone adds: Exif (cdsc), XMP (mime, cdsc), a thumbnail, a
/// depth map, an alpha plane, a `uri ` item and boxes nobody asked for.
fn phone() -> File {
    let mut f = hevc_grid();
    let tiff = b"MM\0\x2a\0\0\0\x08 GPS here";
    let exif = [&[0, 0, 0, 6][..], b"Exif\0\0", tiff].concat();
    let mut xmp = item(21, b"mime", b"<x:xmpmeta>secret</x:xmpmeta>", &[]);
    xmp.content_type = "application/rdf+xml";
    f.props
        .extend([auxc(ALPHA), auxc("urn:mpeg:hevc:2015:auxid:2"), ispe(8, 8)]);
    f.props
        .push(bx(false, b"udes", b"\0\0\0\0en\0my holiday\0\0\0"));
    f.items.extend([
        item(20, b"Exif", &exif, &[]),
        xmp,
        item(22, b"hvc1", b"thumbnail", &[1, 8]),
        item(23, b"hvc1", b"alpha plane", &[1, 3, 6]),
        item(24, b"hvc1", b"depth map", &[1, 3, 7]),
        item(25, b"uri ", b"http://example.com", &[]),
    ]);
    f.items[4].props.push((9, false));
    f.refs.extend([
        (b"cdsc", 20, vec![10]),
        (b"cdsc", 21, vec![10]),
        (b"thmb", 22, vec![10]),
        (b"auxl", 23, vec![10]),
        (b"auxl", 24, vec![10]),
    ]);
    f.top.push(bx(false, b"free", b"padding"));
    f.top.push(bx(
        false,
        b"uuid",
        &[[7u8; 16].as_slice(), b"maker notes"].concat(),
    ));
    f.in_meta.push(bx(false, b"udta", b"a title"));
    f.tail.push(bx(false, b"moov", b"Live Photo motion"));
    f
}

#[test]
fn metadata_thumbnails_and_depth_go_and_alpha_stays() {
    let file = phone().build();
    let before = parse(&file).unwrap();
    assert_eq!(
        before.exif.as_deref(),
        Some(&b"MM\0\x2a\0\0\0\x08 GPS here"[..])
    );
    assert_eq!(before.alpha.as_ref().map(|a| a.item), Some(23));
    let (after, clean) = strip_checked(&file);
    let ids: Vec<u32> = after.items.iter().map(|i| i.0).collect();
    assert_eq!(ids, [1, 2, 3, 4, 10, 23]);
    for gone in [
        &b"Exif\0\0"[..],
        b"xmpmeta",
        b"thumbnail",
        b"depth map",
        b"example.com",
        b"holiday",
        b"padding",
        b"maker notes",
        b"a title",
        b"Live Photo",
    ] {
        assert!(!contains(&clean, gone), "{}", String::from_utf8_lossy(gone));
    }
    assert!(!contains(&clean, b"item name") && !contains(&clean, b"a name"));
    assert!(contains(&clean, b"alpha plane"));
    assert_eq!(top_kinds(&clean), [*b"ftyp", *b"meta", *b"mdat"]);
    let m = meta::parse(container::top_level(&clean).unwrap().meta).unwrap();
    let kinds: Vec<[u8; 4]> = m.references.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [*b"dimg", *b"auxl"]);
    // Properties only dropped items (or nobody) used are gone, the rest renumbered.
    assert_eq!(m.properties.len(), 6);
}

#[test]
fn a_sequence_brand_becomes_a_still_one() {
    let mut f = av1();
    f.major = Some(b"avis");
    let clean = strip(&f.build()).unwrap();
    assert_eq!(&clean[8..12], b"avif");
    assert!(!contains(&clean[..clean.len().min(40)], b"avis"));
    assert_eq!(strip(&clean).unwrap(), clean);
}

#[test]
fn item_ids_past_sixteen_bits_use_the_wide_box_versions() {
    let mut f = av1();
    f.items[0].id = 70_000;
    f.primary = 70_000;
    let (h, clean) = strip_checked(&f.build());
    assert_eq!(h.primary.item, 70_000);
    assert_eq!(item_data(&clean, 70_000).unwrap(), FRAME);
}

#[test]
fn an_unknown_essential_property_is_refused_and_a_plain_one_dropped() {
    let mut f = av1();
    f.props.push(bx(false, b"zzzz", b"vendor"));
    f.items[0].props.push((5, false));
    assert!(!contains(&strip(&f.build()).unwrap(), b"vendor"));
    f.items[0].props[4].1 = true;
    assert!(matches!(strip(&f.build()), Err(HeifError::Unsupported(_))));
}

#[test]
fn limits_count_the_tiles_as_well_as_the_output() {
    let file = hevc_grid().build();
    let h = parse(&file).unwrap();
    assert_eq!(check_limits(&h, 4096, 60), Ok(()));
    // 60×50 = 3000 fits, the tiles' 4096 do not.
    let refused = check_limits(&h, 4000, 60);
    assert_eq!(
        refused,
        Err(HeifError::TooManyPixels {
            pixels: 4096,
            limit: 4000
        })
    );
    let refused = check_header(&file, 4096, 59);
    assert_eq!(
        refused,
        Err(HeifError::TooLong {
            side: 60,
            limit: 59
        })
    );
}

mod hostile;
