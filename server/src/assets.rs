//! The site's own files under `/pkg` (Wasm, JS, CSS), served precompressed.
//!
//! Compressing a megabyte of Wasm at brotli's best level takes seconds, too long for each
//! response, so it is done once: in the background after start, into files beside the originals
//! (`calling.wasm.br`, `calling.wasm.gz`) that are then sent as they are. Until they exist (or
//! where the directory is read-only) responses are compressed as they are served, at a lower
//! level. Compressed files older than their original, left by an earlier build, are removed
//! before the server answers anything, so a rebuilt site is never served stale.

use std::{
    fs, io,
    io::Write,
    path::{Path, PathBuf},
    time::SystemTime,
};

use tower_http::services::ServeDir;

/// The extensions worth compressing; images and fonts are compressed already.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css"];
/// Larger files (unoptimised debug builds) would take minutes at the best levels.
const MAX_SIZE: u64 = 4 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    Brotli,
    Gzip,
}

impl Codec {
    const ALL: [Codec; 2] = [Codec::Brotli, Codec::Gzip];

    fn extension(self) -> &'static str {
        match self {
            Codec::Brotli => "br",
            Codec::Gzip => "gz",
        }
    }

    fn compress(self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Codec::Brotli => brotli(bytes, 11),
            Codec::Gzip => gzip(bytes, 9),
        }
    }
}

/// `bytes` compressed with brotli at `quality` (0 to 11).
pub fn brotli(bytes: &[u8], quality: i32) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// `bytes` compressed with gzip at `level` (0 to 9).
pub fn gzip(bytes: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    z.write_all(bytes)?;
    z.finish()
}

/// Serves `dir`, preferring the precompressed files the client accepts.
pub fn service(dir: &Path) -> ServeDir {
    ServeDir::new(dir).precompressed_br().precompressed_gzip()
}

fn variant(original: &Path, codec: Codec) -> PathBuf {
    let mut name = original.as_os_str().to_owned();
    name.push(".");
    name.push(codec.extension());
    PathBuf::from(name)
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The files in `dir` worth compressing.
fn originals(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| COMPRESSIBLE.contains(&e))
        })
        .collect()
}

/// Removes compressed files that are older than their original, or whose original is gone.
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !Codec::ALL.iter().any(|c| c.extension() == ext) {
            continue;
        }
        let original = path.with_extension("");
        let fresh = match (modified(&original), modified(&path)) {
            (Some(o), Some(c)) => c >= o,
            _ => false,
        };
        if !fresh {
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!("removing stale {}: {e}", path.display());
            }
        }
    }
}

/// Writes the compressed files that are missing. Blocking: run it off the async runtime.
pub fn precompress(dir: &Path) {
    for original in originals(dir) {
        let Some(size) = fs::metadata(&original).ok().map(|m| m.len()) else {
            continue;
        };
        if size > MAX_SIZE {
            continue;
        }
        for codec in Codec::ALL {
            let target = variant(&original, codec);
            if target.exists() {
                continue;
            }
            if let Err(e) = write_compressed(&original, &target, codec) {
                tracing::debug!("precompressing {}: {e}", original.display());
            }
        }
    }
}

/// Compresses into a temporary name and renames it into place, so that a reader never sees
/// half a file and two servers starting together do not interleave their writes.
fn write_compressed(original: &Path, target: &Path, codec: Codec) -> io::Result<()> {
    let bytes = fs::read(original)?;
    let compressed = codec.compress(&bytes)?;
    let mut temp = target.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    let temp = PathBuf::from(temp);
    fs::write(&temp, compressed)?;
    // The original may have been rebuilt meanwhile; then this result is already stale.
    if modified(original).is_some_and(|m| m > modified(&temp).unwrap_or(m)) {
        return fs::remove_file(&temp);
    }
    fs::rename(&temp, target).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("assets-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn precompresses_what_is_worth_it_and_both_decode_to_the_original() {
        let dir = temp_dir("pre");
        let js = "export function hello() { return 'calling'; }\n".repeat(200);
        fs::write(dir.join("calling.js"), &js).unwrap();
        fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
        precompress(&dir);

        let gz = fs::read(dir.join("calling.js.gz")).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, js);
        let br = fs::read(dir.join("calling.js.br")).unwrap();
        let mut text = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, js);
        assert!(br.len() < js.len() / 10);
        assert!(!dir.join("favicon.svg.br").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn stale_and_orphaned_variants_are_removed_fresh_ones_kept() {
        let dir = temp_dir("stale");
        fs::write(dir.join("a.js.br"), "old").unwrap();
        fs::write(dir.join("gone.css.gz"), "orphan").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(dir.join("a.js"), "rebuilt").unwrap();
        fs::write(dir.join("b.js"), "b").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(dir.join("b.js.gz"), "fresh").unwrap();
        remove_stale(&dir);
        assert!(!dir.join("a.js.br").exists());
        assert!(!dir.join("gone.css.gz").exists());
        assert!(dir.join("b.js.gz").exists());
        assert!(dir.join("a.js").exists());
        fs::remove_dir_all(dir).unwrap();
    }
}
