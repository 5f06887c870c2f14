//! "Download all": the stripped originals of a gallery as one ZIP, written as a stream
//! (files are copied from disk or the bucket in chunks; the archive never exists in memory
//! or on disk).

use std::collections::HashSet;
use std::io::{self, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::names;
use crate::blobs::BlobStore;
use crate::model::{Digest, ImageRecord, MediaFormat};

/// The name a downloaded original gets: the uploader's name made safe, with the extension
/// of the bytes actually served, `format` (a rotated original may have been re-encoded; a
/// HEIC's JPEG copy is a `.jpg`).
pub fn download_name(image: &ImageRecord, format: MediaFormat) -> String {
    names::with_extension(&image.name, format.extension(), "photo")
}

/// The name "Download all" is saved as: the title (or the gallery's id), made safe, `.zip`.
pub fn zip_name(title: &str, id: &str) -> String {
    names::file_name(title, "zip", &format!("maiimg-{id}"))
}

/// Write a ZIP of `files` (entry name, blob) to `out`. Photos are already compressed, so
/// entries are stored, which also keeps the cost at one copy per byte.
pub fn write_zip(blobs: &BlobStore, files: &[(String, Digest)], out: impl Write) -> io::Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    for (name, digest) in files {
        zip.start_file(name.as_str(), options)
            .map_err(io::Error::other)?;
        io::copy(&mut blobs.reader(digest)?, &mut zip)?;
    }
    zip.finish().map_err(io::Error::other)?.flush()
}

/// Entry names, one for each image's [`ImageRecord::download_blob`] (a HEIC's JPEG copy):
/// numbered in gallery order, unique, and flat: built from [`download_name`],
/// so no separator, no `..` component and no invisible character reaches an unzipper.
pub fn entry_names(images: &[ImageRecord]) -> Vec<String> {
    let width = images.len().to_string().len().max(2);
    let mut seen = HashSet::new();
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let name = download_name(image, image.download_blob().format);
            let mut name = format!("{:0width$}-{name}", i + 1);
            while !seen.insert(name.clone()) {
                name.insert(0, '_');
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BlobRef, Digest};

    fn image(name: &str, format: MediaFormat) -> ImageRecord {
        let blob = BlobRef {
            digest: Digest([0; 32]),
            format,
            width: 1,
            height: 1,
            bytes: 1,
        };
        ImageRecord {
            name: name.into(),
            animated: false,
            original: blob.clone(),
            display: blob.clone(),
            thumb: blob,
            caption: String::new(),
            download: None,
        }
    }

    #[test]
    fn entry_names_are_flat_visible_and_unique_whatever_was_stored() {
        // Names as an older server may have stored them: nothing here may leave the archive.
        let images = [
            image("../../.ssh/authorized_keys", MediaFormat::Jpeg),
            image("..\\..\\boot.ini", MediaFormat::Png),
            image("..", MediaFormat::Gif),
            image("a\u{0}\u{202E}gpj.exe\u{200B}.png", MediaFormat::Webp),
            image("same.jpg", MediaFormat::Jpeg),
            image("same.png", MediaFormat::Jpeg),
        ];
        assert_eq!(
            entry_names(&images),
            [
                "01-_.._.ssh_authorized_keys.jpg",
                "02-_.._boot.png",
                "03-photo.gif",
                "04-agpj.exe.webp",
                "05-same.jpg",
                "06-same.jpg",
            ]
        );
        assert_eq!(zip_name("../../Holiday\u{2066}", "id"), "_.._Holiday.zip");
        assert_eq!(zip_name("..", "id"), "maiimg-id.zip");
    }
}
