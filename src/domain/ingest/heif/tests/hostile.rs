//! Files built to hurt: each is refused with an error that says why, and nothing panics.

use super::*;

fn corrupt(file: &[u8], says: &str) {
    for result in [parse(file).map(|_| ()), strip(file).map(|_| ())] {
        match result {
            Err(HeifError::Corrupt(why)) => assert!(why.contains(says), "{why:?} lacks {says:?}"),
            other => panic!("expected Corrupt({says:?}), got {other:?}"),
        }
    }
}

fn find(file: &[u8], needle: &[u8]) -> usize {
    file.windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn a_box_larger_than_the_file_is_refused() {
    let mut file = av1().build();
    let meta = find(&file, b"meta") - 4;
    file[meta..meta + 4].copy_from_slice(&100_000u32.to_be_bytes());
    corrupt(&file, "box “meta” claims 100000 bytes");
    let mut file = av1().build();
    file[..4].copy_from_slice(&[0, 0, 0, 3]);
    corrupt(&file, "box “ftyp” claims 3 bytes");
}

#[test]
fn extents_past_the_end_are_refused_by_strip_and_item_data() {
    let mut f = av1();
    f.items[0].data = vec![7; 100];
    let mut file = f.build();
    file.truncate(file.len() - 50);
    // The mdat box itself now claims too much; give it size 0 (to the end) so only iloc lies.
    let mdat = find(&file, b"mdat") - 4;
    file[mdat..mdat + 4].copy_from_slice(&[0; 4]);
    assert!(parse(&file).is_ok(), "the header alone is fine");
    let err = strip(&file).unwrap_err();
    assert_eq!(
        err,
        HeifError::Corrupt("item 1's data lies past the end of the file".into())
    );
    assert_eq!(item_data(&file, 1).unwrap_err(), err);
}

#[test]
fn overlapping_extents_cannot_multiply_the_file() {
    let mut f = av1();
    f.items[0].data = vec![7; 64];
    f.items[0].extents = 64;
    let mut file = f.build();
    // Point all 64 one-byte extents at offset 0 with the length of the whole file.
    let iloc = find(&file, b"iloc") + 4 + 4 + 2 + 2 + 2 + 2 + 2 + 2;
    let whole = (file.len() as u32).to_be_bytes();
    for e in 0..64 {
        let at = iloc + e * 8;
        file[at..at + 4].copy_from_slice(&[0; 4]);
        file[at + 4..at + 8].copy_from_slice(&whole);
    }
    corrupt_strip(&file, "extents add up to more than the file");
}

fn corrupt_strip(file: &[u8], says: &str) {
    match strip(file) {
        Err(HeifError::Corrupt(why)) => assert!(why.contains(says), "{why:?} lacks {says:?}"),
        other => panic!("expected Corrupt({says:?}), got {other:?}"),
    }
}

#[test]
fn counts_the_box_cannot_hold_are_refused_before_allocating() {
    let file = av1().build();
    // iloc's item count (v1: after version/flags and the size nibbles).
    let mut f = file.clone();
    let count = find(&f, b"iloc") + 4 + 4 + 2;
    f[count..count + 2].copy_from_slice(&0xFFFFu16.to_be_bytes());
    corrupt(&f, "iloc declares 65535 entries");
    // ipma's entry count.
    let mut f = file.clone();
    let count = find(&f, b"ipma") + 4 + 4;
    f[count..count + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    corrupt(&f, "ipma declares 4294967295 entries");
    // An iref with 65535 targets.
    let mut g = hevc_grid();
    g.refs[0].2 = vec![1];
    let mut f = g.build();
    let count = find(&f, b"dimg") + 4 + 2;
    f[count..count + 2].copy_from_slice(&0xFFFFu16.to_be_bytes());
    corrupt(&f, "iref declares 65535 entries");
}

#[test]
fn a_property_index_past_ipco_is_refused() {
    let mut f = av1();
    f.items[0].props.push((9, false));
    corrupt(&f.build(), "item 1 is given property 9 of 4");
}

#[test]
fn grids_that_loop_or_nest_are_refused() {
    // A grid that names itself as a tile.
    let mut f = hevc_grid();
    f.refs[0].2 = vec![1, 2, 3, 10];
    corrupt(&f.build(), "grid 10 repeats tile 10");
    // Two grids naming each other: a tile must be a coded image, never a grid.
    let mut f = hevc_grid();
    let mut other = item(11, b"grid", &grid(1, 1, 32, 32), &[2]);
    other.in_idat = true;
    f.items.push(other);
    f.refs = vec![(b"dimg", 10, vec![1, 2, 3, 11]), (b"dimg", 11, vec![10])];
    assert_eq!(
        parse(&f.build()),
        Err(HeifError::Unsupported("item 11 is coded as “grid”".into()))
    );
    // The same tile twice.
    let mut f = hevc_grid();
    f.refs[0].2 = vec![1, 2, 2, 4];
    corrupt(&f.build(), "grid 10 repeats tile 2");
    // Fewer tiles than rows × columns.
    let mut f = hevc_grid();
    f.refs[0].2 = vec![1, 2, 3];
    corrupt(&f.build(), "a 2×2 grid has 3 tiles");
}

#[test]
fn missing_pieces_are_named() {
    let mut f = av1();
    f.primary = 9;
    corrupt(&f.build(), "item 9 is not declared");
    let mut f = av1();
    f.items[0].props = vec![(2, false)];
    corrupt(&f.build(), "item 1 has no size (ispe)");
    let mut f = av1();
    f.items[0].props = vec![(1, false)];
    corrupt(&f.build(), "item 1 has no av1C");
    let mut f = av1();
    f.props[0] = ispe(0, 48);
    corrupt(&f.build(), "item 1 is 0×48");
    assert!(matches!(parse(b""), Err(HeifError::Corrupt(_))));
    let mut file = av1().build();
    let hdlr = find(&file, b"pict");
    file[hdlr..hdlr + 4].copy_from_slice(b"vide");
    assert_eq!(
        parse(&file),
        Err(HeifError::Unsupported(
            "the meta handler is “vide”, not pict".into()
        ))
    );
}

#[test]
fn every_truncation_and_every_flipped_byte_is_refused_or_read_without_a_panic() {
    for file in [phone().build(), av1().build()] {
        for end in 0..file.len() {
            let _ = parse(&file[..end]);
            let _ = strip(&file[..end]);
        }
        let len = file.len().min(1500);
        for at in 0..len {
            for flip in [0x01, 0x80, 0xFF] {
                let mut f = file.clone();
                f[at] ^= flip;
                if let Ok(clean) = strip(&f) {
                    let again = strip(&clean).expect("a stripped file strips again");
                    assert_eq!(again, clean, "not idempotent after flipping byte {at}");
                }
            }
        }
    }
}

#[test]
fn the_largest_grid_there_can_be_is_read_in_one_pass() {
    // 255 × 255 tiles: looked up one by one in a list, each of 65 000 tiles would scan 65 000
    // items (and the test would not end).
    let tiles: Vec<u32> = (1..=255 * 255).collect();
    let mut items: Vec<Item> = tiles
        .iter()
        .map(|&id| item(id, b"hvc1", b"t", &[1, 2]))
        .collect();
    items.push(item(70_000 - 1, b"grid", &grid(255, 255, 255, 255), &[2]));
    let f = File {
        primary: 70_000 - 1,
        items,
        props: vec![hvcc(8), ispe(1, 1)],
        refs: vec![(b"dimg", 70_000 - 1, tiles)],
        ..File::default()
    };
    let file = f.build();
    let h = parse(&file).unwrap();
    assert_eq!(h.primary.tiles.len(), 255 * 255);
    assert_eq!(
        check_limits(&h, 65_024, 255),
        Err(HeifError::TooManyPixels {
            pixels: 65_025,
            limit: 65_024
        })
    );
    let clean = strip(&file).unwrap();
    assert_eq!(parse(&clean).unwrap().primary, h.primary);
}
