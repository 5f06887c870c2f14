//! The fuzz targets' seed corpora, written from fixtures made in code.

use super::*;

/// Seed corpora for the fuzz targets, from the fixtures in `common/fixtures` (nothing binary is committed):
/// `cargo test --test it -- --ignored ingest::seeds::fuzz_seeds` writes `fuzz/corpus/<target>/`.
#[test]
#[ignore = "writes the fuzz seed corpora; run by fuzz/smoke.sh"]
fn fuzz_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let mut png_text = png_rgb(8, 8);
    // A tEXt chunk before IEND, so the stripper has something to drop.
    let iend = png_text.len() - 12;
    let extra = png_from_chunks(&[(b"tEXt", b"Comment\0planted secret".to_vec())]);
    png_text.splice(iend..iend, extra[8..extra.len() - 12].iter().copied());
    let images: [(&str, Vec<u8>); 11] = [
        ("jpeg", jpeg(24, 16, 1)),
        ("jpeg-exif-6", with_exif(&jpeg(24, 16, 2), 6)),
        ("jpeg-exif-1", with_exif(&jpeg(16, 16, 3), 1)),
        ("png-rgb", png_rgb(12, 8)),
        ("png-rgba", png_rgba(8, 8)),
        ("png-16bit", png_16bit(8, 8)),
        ("png-palette", png_palette(8, 8)),
        ("png-text", png_text),
        ("gif-still", gif_still(8, 8)),
        ("gif-animated", gif_animated(16, 8, 3)),
        ("webp-lossless", webp_lossless(8, 8)),
    ];
    for (name, bytes) in &images {
        for target in ["sniff", "header", "strip", "ingest"] {
            write(target, name, bytes);
        }
    }
    write("sniff", "svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    write("sniff", "pdf", b"%PDF-1.7");
    write("header", "png-claiming", &png_claiming(5000, 5000));
    // Animations, for their chunk walks and the frame-by-frame path.
    let animations = [
        (
            "apng",
            animation::fixtures::apng(24, 16, &[(1, 10), (0, 0), (3, 7)], 2),
        ),
        (
            "webp-anim-lossy",
            animation::fixtures::webp_anim(24, 16, &[40, 80], 3, true),
        ),
        (
            "webp-anim-lossless",
            animation::fixtures::webp_anim(16, 8, &[10, 30], 0, false),
        ),
    ];
    for (name, bytes) in &animations {
        for target in ["apng", "webp_anim", "strip", "header", "ingest"] {
            write(target, name, bytes);
        }
    }

    // The JPEG path alone (libjpeg-turbo): the JPEG fixtures, and the realworld JPEGs
    // under 64 KiB where present (arithmetic, lossless, 12-bit, progressive, grey, damaged).
    for (name, bytes) in images.iter().filter(|(name, _)| name.starts_with("jpeg")) {
        write("jpeg", name, bytes);
    }
    for dir in ["realworld/formats", "realworld/broken"] {
        let Some(dir) = testdata(dir) else {
            continue;
        };
        for path in files(&dir, "jpg") {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.len() <= 64 * 1024 {
                write("jpeg", &path.file_name().unwrap().to_string_lossy(), &bytes);
            }
        }
    }

    // HEIC made in code: 8- and 10-bit, alpha, Display P3, an EXIF orientation to ignore.
    let heics = [
        ("heic", HeicExtras::default()),
        (
            "heic-10bit-p3",
            HeicExtras {
                ten_bit: true,
                display_p3: true,
                ..HeicExtras::default()
            },
        ),
        (
            "heic-alpha",
            HeicExtras {
                alpha: true,
                exif_orientation: None,
                ..HeicExtras::default()
            },
        ),
    ];
    for (name, extras) in &heics {
        let bytes = heic(40, 24, extras);
        for target in ["heif", "heif_decode", "ingest"] {
            write(target, name, &bytes);
        }
    }

    // HEIF/AVIF: the realworld files where present (copied into the git-ignored corpus
    // only). The decoder target gets those within its megapixel whole; the container
    // target gets files over 256 KiB cut to their first 64 KiB, which holds all their boxes.
    for dir in ["realworld/heif", "realworld/avif"] {
        let Some(dir) = testdata(dir) else {
            continue;
        };
        for path in files(&dir, "heic")
            .into_iter()
            .chain(files(&dir, "heif"))
            .chain(files(&dir, "avif"))
        {
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy();
            if bytes.len() <= 256 * 1024 {
                write("heif_decode", &name, &bytes);
            }
            let keep = if bytes.len() > 256 * 1024 {
                64 * 1024
            } else {
                bytes.len()
            };
            write("heif", &name, &bytes[..keep]);
        }
    }

    // Multipart: the target's first byte is the chunk size, its boundary `fuzzBOUNDARY`.
    let mut body = Vec::new();
    for (name, file) in [
        ("a.jpg", &images[0].1),
        ("../b\u{202E}gpj.png", &images[3].1),
    ] {
        body.extend_from_slice(
            b"--fuzzBOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"",
        );
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(&file[..file.len().min(200)]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--fuzzBOUNDARY\r\nContent-Disposition: form-data; name=\"max_opens\"\r\n\r\n5\r\n--fuzzBOUNDARY--\r\n");
    for split in [7u8, 64, 255] {
        let mut seed = vec![split];
        seed.extend_from_slice(&body);
        write("multipart", &format!("form-{split}"), &seed);
    }

    // Settings: first byte even for JSON, odd for `name=value` lines.
    let json = br#"{"max_opens": 3, "allow_download": false, "expires_in": 3600, "available_from": "2027-01-01T00:00:00Z", "available_until": "2027-02-01T00:00:00+01:00", "daily_from": "22:00", "daily_until": "02:00", "days": "mon,fri", "timezone": "Europe/Berlin"}"#;
    for mode in [0u8, 2, 4, 0x80] {
        write(
            "settings",
            &format!("json-{mode}"),
            &[&[mode][..], json].concat(),
        );
    }
    let form = b"max_opens=\nexpires_at=2027-03-01T12:00:00Z\ndaily_from=08:30\ndaily_until=17:00\ndays=sat,sun\ntimezone=UTC";
    write("settings", "form", &[&[1u8][..], form].concat());

    // Tickets: even first byte for a whole cookie, odd for edits of a genuine one.
    write(
        "ticket",
        "garbage",
        b"\x00AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    write("ticket", "edit", b"\x07\x05A\x10\xff");

    // `UA\nreferrer`
    let agents = [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1\nhttps://www.example.org/a?b",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36\nandroid-app://com.whatsapp/",
        "facebookexternalhit/1.1 facebot Twitterbot/1.0\n",
        "Mozilla/5.0 (iPhone) Mobile/15E148 Instagram 312.0.0\nhttps://l.instagram.com/",
        "TelegramBot (like TwitterBot)\nHTTPS://user:pw@[2001:DB8::1]:443/",
    ];
    for (i, a) in agents.iter().enumerate() {
        write("agent", &format!("ua-{i}"), a.as_bytes());
    }

    for (i, n) in [
        "holiday.html;.png",
        "../../etc/passwd",
        "photo\u{202E}gpj.exe",
        "C:\\Users\\me\\IMG_1.JPG",
        " . ",
        "sun\u{200B}set\u{FEFF}.jpg",
    ]
    .iter()
    .enumerate()
    {
        write("names", &format!("name-{i}"), n.as_bytes());
    }
}
