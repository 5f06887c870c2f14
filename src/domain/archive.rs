//! "Download all": the stripped originals of a gallery as one ZIP, written as a stream
//! (files are copied from disk in chunks; the archive never exists in memory or on disk).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::names;
use crate::model::ImageRecord;

/// The name a downloaded original gets: the uploader's name made safe, with the extension
/// of the bytes actually served (a rotated original may have been re-encoded).
pub fn download_name(image: &ImageRecord) -> String {
    names::with_extension(&image.name, image.original.format.extension(), "photo")
}

/// The name "Download all" is saved as: the title (or the gallery's id), made safe, `.zip`.
pub fn zip_name(title: &str, id: &str) -> String {
    names::file_name(title, "zip", &format!("maiimg-{id}"))
}

/// Write a ZIP of `files` (entry name, blob path) to `out`. Photos are already compressed,
/// so entries are stored, which also keeps the cost at one copy per byte.
pub fn write_zip(files: &[(String, PathBuf)], out: impl Write) -> io::Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    for (name, path) in files {
        zip.start_file(name.as_str(), options)
            .map_err(io::Error::other)?;
        io::copy(&mut File::open(path)?, &mut zip)?;
    }
    zip.finish().map_err(io::Error::other)?.flush()
}

/// Entry names: numbered in gallery order, unique.
pub fn entry_names(images: &[ImageRecord]) -> Vec<String> {
    let width = images.len().to_string().len().max(2);
    let mut seen = HashSet::new();
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut name = format!("{:0width$}-{}", i + 1, download_name(image));
            while !seen.insert(name.clone()) {
                name.insert(0, '_');
            }
            name
        })
        .collect()
}
