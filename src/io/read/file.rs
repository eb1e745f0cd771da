//! Reading input files: their bytes and UTF-8 text (a missing, unreadable or mis-encoded
//! file is bad input, said with the file's name), and a layer in any of the three formats,
//! chosen by the path (`file.gpkg` or `file.gpkg#layer`, `.shp`, else GeoJSON). Used by the
//! scenario loader, the statistics table and the readers of plans and output folders.

use std::path::Path;

use super::geojson_in::parse_layer_map;
use super::layer::{Feature, Layer};
use super::{gpkg, shp};
use crate::error::InputError;
use crate::progress::{Progress, Silent};

/// Reads a file's bytes; a missing or unreadable input is bad input (exit code 2).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    if std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::new(&shown, "is a folder, not a file"));
    }
    std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        InputError::new(&shown, reason)
    })
}

/// Reads a UTF-8 text file; a byte-order mark at the start is dropped.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let shown = path.display().to_string();
    let bytes = read_bytes(path)?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            &shown,
            format!(
                "not UTF-8 text (byte {} is invalid); save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// A layer file mapped into memory: a million sites are 175 MB of GeoJSON, and reading them
/// into a buffer costs a copy and as much fresh memory as the file (the kernel clears each
/// page first); the mapping reads the page cache directly.
enum MappedFile {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            MappedFile::Mapped(map) => map,
            MappedFile::Read(bytes) => bytes,
        }
    }
}

impl MappedFile {
    fn open(path: &Path) -> Result<MappedFile, InputError> {
        let shown = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(file) if file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0) => file,
            // Folders, empty files and files that cannot be opened get the messages of
            // `read_bytes`.
            _ => return read_bytes(path).map(MappedFile::Read),
        };
        // SAFETY: the mapping is read-only and lives while the layer is parsed; quartier
        // never writes its input files. Should another program shorten the file meanwhile,
        // reading may fail, as reading a file being rewritten does anyway.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => Ok(MappedFile::Mapped(map)),
            Err(_) => std::fs::read(path)
                .map(MappedFile::Read)
                .map_err(|e| InputError::new(&shown, e.to_string())),
        }
    }
}

/// The bytes as UTF-8 text without a byte-order mark; the error names the invalid byte.
fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, InputError> {
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            let valid_up_to = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| 0);
            return Err(InputError::new(
                path.display(),
                format!("not UTF-8 text (byte {valid_up_to} is invalid); save the file as UTF-8"),
            ));
        }
    };
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Reads a layer file with all its properties.
pub fn read_layer(path: &Path) -> Result<Layer, InputError> {
    read_layer_with(path, &Silent, None)
}

/// Reads a layer (GeoJSON; GeoPackage `file.gpkg` or `file.gpkg#layer`; Shapefile `.shp`),
/// reporting the features parsed to `progress` and keeping only the properties in `wanted`
/// (all when `None`).
pub fn read_layer_with(
    path: &Path,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
) -> Result<Layer, InputError> {
    let (layer, _, features) = read_layer_map(path, progress, wanted, &|_| Ok(()), &|_, f| Ok(f))?;
    Ok(Layer { features, ..layer })
}

/// As `read_layer_with`, turning each feature into an item with `map` as soon as it is read
/// (see `geojson_in::parse_layer_map`): the returned layer has no features of its own; the
/// context `prepare` made for `map` comes with the items.
pub fn read_layer_map<C: Sync, T: Send>(
    path: &Path,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
    prepare: &dyn Fn(&Layer) -> Result<C, InputError>,
    map: &(dyn Fn(&C, Feature) -> Result<T, InputError> + Sync),
) -> Result<(Layer, C, Vec<T>), InputError> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    progress.start(&format!("reading {}", name.to_string_lossy()), None);
    let whole = |mut layer: Layer| -> Result<(Layer, C, Vec<T>), InputError> {
        let context = prepare(&layer)?;
        let features = std::mem::take(&mut layer.features);
        let items = features
            .into_iter()
            .map(|feature| map(&context, feature))
            .collect::<Result<Vec<T>, InputError>>()?;
        Ok((layer, context, items))
    };
    let (layer, context, items) = match gpkg::split_layer(path) {
        Some((file, layer_name)) => whole(gpkg::read(&file, layer_name.as_deref(), wanted)?)?,
        None if has_extension(path, "shp") => whole(shp::read(path, wanted)?)?,
        None => {
            let bytes = MappedFile::open(path)?;
            let text = utf8(&bytes, path)?;
            parse_layer_map(
                text,
                &path.display().to_string(),
                progress,
                wanted,
                prepare,
                map,
            )?
        }
    };
    if items.is_empty() {
        return Err(InputError::new(
            &layer.file,
            "the layer has no features; expected at least one",
        ));
    }
    Ok((layer, context, items))
}

pub(crate) fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(extension))
}
