//! `[input]`: the statistics table's settings, and paths as messages show them.

use std::path::{Component, Path, PathBuf};

use super::raw::RawStatistics;

#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsInput {
    pub file: PathBuf,
    /// The column holding the district id.
    pub key: String,
    /// `None`: detected from the header (`,` `;` or tab).
    pub delimiter: Option<u8>,
    /// `.` or `,`.
    pub decimal: char,
    pub encoding: &'static encoding_rs::Encoding,
}

/// encoding.
pub(super) fn statistics_input(
    raw: RawStatistics,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<StatisticsInput, String> {
    let delimiter = match raw.delimiter.as_deref() {
        None => None,
        Some("\t") | Some("\\t") | Some("tab") => Some(b'\t'),
        Some(text) if text.len() == 1 && text.is_ascii() => Some(text.as_bytes()[0]),
        Some(text) => {
            return Err(format!(
                "[input.statistics] delimiter must be one character such as \";\", \",\" or \"\\t\", found \"{text}\""
            ))
        }
    };
    let decimal = match raw.decimal.as_deref() {
        None | Some(".") => '.',
        Some(",") => ',',
        Some(other) => {
            return Err(format!(
                "[input.statistics] decimal must be \".\" or \",\", found \"{other}\""
            ))
        }
    };
    if delimiter == Some(b',') && decimal == ',' {
        return Err(
            "[input.statistics] delimiter and decimal are both \",\"; German tables use delimiter = \";\""
                .into(),
        );
    }
    let encoding = match raw.encoding.as_deref() {
        None => encoding_rs::UTF_8,
        Some(label) => encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            format!(
                "[input.statistics] unknown encoding \"{label}\"; use \"utf-8\" or \"windows-1252\" (also called latin1 or cp1252)"
            )
        })?,
    };
    if raw.key.trim().is_empty() {
        return Err(
            "[input.statistics] key must name the column that holds the district id".into(),
        );
    }
    Ok(StatisticsInput {
        file: resolve(&raw.file),
        key: raw.key,
        delimiter,
        decimal,
        encoding,
    })
}

/// Removes `.` and `name/..` pairs so that messages show `data/x.geojson`, not
/// `scenarios/../data/x.geojson`.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}
