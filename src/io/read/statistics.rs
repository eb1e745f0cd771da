//! `[input.statistics]`: the statistics office's table (CSV), joined to the districts by id.
//!
//! Offices send semicolon-separated files with decimal commas, often in Windows-1252, with a
//! totals row at the end; Excel saves "Unicode text" as UTF-16 with tabs. The table is
//! decoded (a byte-order mark says the encoding), split with the `csv` crate, and its cells
//! stay text until a column is used: then each cell is read in the declared notation, and
//! every failure names the file, the line, the column and what was expected.

use std::collections::HashMap;

use crate::error::InputError;
use crate::scenario::{suggestion, StatisticsInput};

/// The table as read: header and rows, cells as text.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file as shown in messages.
    pub file: String,
    pub header: Vec<String>,
    /// Index of the key column.
    key_column: usize,
    pub rows: Vec<Row>,
    decimal: char,
    /// Canonical key → row index.
    by_key: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in the file.
    pub line: u64,
    pub cells: Vec<String>,
}

/// Ids match as text, and as numbers where both are whole numbers ("07" = "7").
pub fn canonical_id(id: &str) -> String {
    let trimmed = id.trim();
    let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let stripped = digits.trim_start_matches('0');
        return if stripped.is_empty() {
            "0".into()
        } else {
            stripped.into()
        };
    }
    // "7.0" from a spreadsheet is the whole number 7 too.
    if let Some(whole) = digits.strip_suffix(".0") {
        if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) {
            return canonical_id(whole);
        }
    }
    trimmed.to_string()
}

impl Table {
    /// Reads and splits the file.
    pub fn read(input: &StatisticsInput) -> Result<Table, InputError> {
        let shown = input.file.display().to_string();
        let bytes = super::file::read_bytes(&input.file)?;
        Table::parse(&bytes, &shown, input)
    }

    /// Splits the bytes of a table file; `file` is how messages name it.
    pub fn parse(bytes: &[u8], file: &str, input: &StatisticsInput) -> Result<Table, InputError> {
        let bad = |message: String| InputError::new(file, message);
        let text = decode(bytes, input.encoding).map_err(bad)?;
        let first_line = text.lines().next().unwrap_or("");
        let delimiter = match input.delimiter {
            Some(d) => d,
            None => detect_delimiter(first_line).ok_or_else(|| {
                bad("cannot tell the delimiter from the header line (no \";\", \",\" or tab in it); set delimiter in [input.statistics]".into())
            })?,
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(format!("cannot read the header line: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.iter().all(|h| h.is_empty()) {
            return Err(bad(
                "the table is empty; expected a header line and a row per district".into(),
            ));
        }
        let key_column = column_of(&header, &input.key).ok_or_else(|| {
            bad(format!(
                "no column \"{}\" for the district id (key in [input.statistics]){}; the columns are {}",
                input.key,
                suggestion(&input.key, &header.iter().map(String::as_str).collect::<Vec<_>>()),
                list(&header)
            ))
        })?;
        let mut rows = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        // Lines counted from the byte offsets (csv's own count is off by one with "\r\n").
        let bytes = text.as_bytes();
        let (mut counted_to, mut lines_before) = (0usize, 0u64);
        let mut line_at = |byte: u64| -> u64 {
            let mut byte = (byte as usize).min(bytes.len());
            // A record may start at the "\n" of the line end before it.
            while byte < bytes.len() && matches!(bytes[byte], b'\r' | b'\n') {
                byte += 1;
            }
            if byte >= counted_to {
                lines_before += bytes[counted_to..byte]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
                counted_to = byte;
            }
            lines_before + 1
        };
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                bad(format!("line {line}: cannot read the row: {e}"))
            })?;
            let line = record.position().map_or(0, |p| line_at(p.byte()));
            let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if cells.len() != header.len() {
                return Err(bad(format!(
                    "line {line}: {} cells, but the header has {} columns; expected one cell per column (delimiter \"{}\")",
                    cells.len(),
                    header.len(),
                    shown_delimiter(delimiter)
                )));
            }
            let key = &cells[key_column];
            if key.is_empty() {
                return Err(bad(format!(
                    "line {line}, column \"{}\": the district id is empty",
                    header[key_column]
                )));
            }
            if let Some(&first) = by_key.get(&canonical_id(key)) {
                let first: &Row = &rows[first];
                return Err(bad(format!(
                    "line {line}, column \"{}\": the district id \"{key}\" appears twice (lines {} and {line}); expected one row per district",
                    header[key_column], first.line
                )));
            }
            by_key.insert(canonical_id(key), rows.len());
            rows.push(Row { line, cells });
        }
        Ok(Table {
            file: file.to_string(),
            header,
            key_column,
            rows,
            decimal: input.decimal,
            by_key,
        })
    }

    /// The column index of `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        column_of(&self.header, name)
    }

    /// The key column's name.
    pub fn key_name(&self) -> &str {
        &self.header[self.key_column]
    }

    /// The row of a district id.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.by_key.get(&canonical_id(id)).copied()
    }

    /// The key of a row.
    pub fn key_of(&self, row: usize) -> &str {
        &self.rows[row].cells[self.key_column]
    }

    /// The text of a cell.
    pub fn text(&self, row: usize, column: usize) -> &str {
        &self.rows[row].cells[column]
    }

    /// A cell as a number in the declared notation; the error names file, line and column.
    pub fn number(&self, row: usize, column: usize) -> Result<f64, InputError> {
        let r = &self.rows[row];
        let cell = &r.cells[column];
        let place = format!(
            "line {}, column \"{}\" (district \"{}\")",
            r.line,
            self.header[column],
            self.key_of(row)
        );
        if cell.is_empty() {
            return Err(InputError::new(
                &self.file,
                format!("{place}: the cell is empty; expected a number"),
            ));
        }
        parse_number(cell, self.decimal).map_err(|why| {
            InputError::new(
                &self.file,
                format!(
                    "{place}: \"{cell}\" is not a number in the declared notation (decimal \"{}\"): {why}",
                    self.decimal
                ),
            )
        })
    }
}

fn column_of(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shown_delimiter(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// The most frequent of `;` `,` tab in the header line.
fn detect_delimiter(header: &str) -> Option<u8> {
    [b';', b'\t', b',']
        .into_iter()
        .map(|d| (header.bytes().filter(|&b| b == d).count(), d))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, d)| d)
}

/// Decodes the file. A UTF-16 byte-order mark, as Excel's "Unicode text" starts
/// (little-endian, tab-separated), says the encoding whatever `encoding` says; a UTF-8 one
/// is dropped. Invalid UTF-8 is an error that names the encoding to set, and text full of
/// NUL bytes one that says it looks like UTF-16.
fn decode(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> Result<String, String> {
    let (encoding, bytes) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((marked, length)) if marked != encoding_rs::UTF_8 => (marked, &bytes[length..]),
        Some((_, length)) => (encoding, &bytes[length..]),
        None => (encoding, bytes),
    };
    let utf16 = [encoding_rs::UTF_16LE, encoding_rs::UTF_16BE];
    if !utf16.contains(&encoding) {
        if let Some(label) = utf16_label(bytes) {
            return Err(format!(
                "the file looks like UTF-16 text (as Excel saves \"Unicode text\") without a byte-order mark at its start; set encoding = \"{label}\" in [input.statistics], or save the table from Excel as \"CSV UTF-8\""
            ));
        }
    }
    if encoding == encoding_rs::UTF_8 {
        return String::from_utf8(bytes.to_vec()).map_err(|e| {
            format!(
                "not UTF-8 text (byte {} is invalid); if the table was saved by Excel or the statistics office in Windows' encoding, set encoding = \"windows-1252\" in [input.statistics]",
                e.utf8_error().valid_up_to()
            )
        });
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or_else(|| format!("not valid {} text", encoding.name()))
}

/// `utf-16le` or `utf-16be` when at least a quarter of the bytes are NUL, as in UTF-16 text
/// of Latin letters (a NUL after each letter, or before it); text tables hold no NUL bytes.
fn utf16_label(bytes: &[u8]) -> Option<&'static str> {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let nul_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    if sample.is_empty() || 4 * (even + odd) < sample.len() {
        return None;
    }
    Some(if odd >= even { "utf-16le" } else { "utf-16be" })
}

/// A number in the notation with `decimal` as the decimal separator; no thousands
/// separators.
pub fn parse_number(cell: &str, decimal: char) -> Result<f64, String> {
    let text = cell.trim();
    let other = if decimal == ',' { '.' } else { ',' };
    if text.contains(other) {
        return Err(format!(
            "\"{other}\" is not the decimal separator here, and thousands separators are not allowed"
        ));
    }
    if text.contains(' ') || text.contains('\'') || text.contains('\u{a0}') {
        return Err("thousands separators are not allowed".into());
    }
    let normal = if decimal == ',' {
        text.replace(',', ".")
    } else {
        text.to_string()
    };
    let valid = !normal.is_empty()
        && normal
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && normal.chars().any(|c| c.is_ascii_digit());
    match normal.parse::<f64>() {
        Ok(x) if valid && x.is_finite() => Ok(x),
        _ => Err("expected digits with at most one decimal separator".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn input(decimal: char, encoding: &'static encoding_rs::Encoding) -> StatisticsInput {
        StatisticsInput {
            file: PathBuf::from("stats.csv"),
            key: "Nr".into(),
            delimiter: None,
            decimal,
            encoding,
        }
    }

    #[test]
    fn ids_match_as_whole_numbers() {
        assert_eq!(canonical_id("07"), "7");
        assert_eq!(canonical_id(" 7 "), "7");
        assert_eq!(canonical_id("7.0"), "7");
        assert_eq!(canonical_id("000"), "0");
        assert_eq!(canonical_id("07a"), "07a");
        assert_eq!(canonical_id("Süd"), "Süd");
    }

    #[test]
    fn german_numbers_and_refused_separators() {
        assert_eq!(parse_number("12,5", ','), Ok(12.5));
        assert_eq!(parse_number("-0,03", ','), Ok(-0.03));
        assert_eq!(parse_number("12345", ','), Ok(12345.0));
        assert!(parse_number("12.345", ',')
            .unwrap_err()
            .contains("thousands separators are not allowed"));
        assert!(parse_number("12,345", '.').is_err());
        assert!(parse_number("12 345", '.').is_err());
        assert!(parse_number("viele", '.').is_err());
        assert!(parse_number("inf", '.').is_err());
        assert!(parse_number("1,2,3", ',').is_err());
        assert_eq!(parse_number("0.25", '.'), Ok(0.25));
    }

    #[test]
    fn windows_1252_with_bom_semicolons_and_totals() {
        let mut bytes = b"\xEF\xBB\xBFNr;Name;Einwohner;SGB II-Quote\n".to_vec();
        bytes.extend_from_slice(b"07;H\xf6lting;12345;12,5\n");
        bytes.extend_from_slice(b"8;S\xfcdviertel;9000;3,0\n");
        bytes.extend_from_slice(b"Summe;Stadt;21345;8,5\n");
        let table =
            Table::parse(&bytes, "stats.csv", &input(',', encoding_rs::WINDOWS_1252)).unwrap();
        assert_eq!(
            table.header,
            vec!["Nr", "Name", "Einwohner", "SGB II-Quote"]
        );
        let row = table.row_of("7").unwrap();
        assert_eq!(table.text(row, 1), "Hölting");
        assert_eq!(table.number(row, 3).unwrap(), 12.5);
        assert_eq!(table.rows[row].line, 2);
        assert!(table.row_of("08").is_some());
        assert_eq!(table.rows[2].line, 4);
        let crlf = Table::parse(
            b"Nr;Wert\r\n1;2\r\n2;3\r\nSumme;5\r\n",
            "stats.csv",
            &input(',', encoding_rs::UTF_8),
        )
        .unwrap();
        assert_eq!(
            crlf.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(table.row_of("Summe").is_some());
    }

    #[test]
    fn excel_unicode_text_utf16_with_tabs() {
        let text = "Nr\tName\tEinwohner\r\n07\tHölting\t12345\r\n8\tSüdviertel\t9000\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, label) in [(le, "utf-16le"), (be, "utf-16be")] {
            let marked = [
                if label == "utf-16le" {
                    &[0xFF, 0xFE]
                } else {
                    &[0xFE, 0xFF]
                },
                &bytes[..],
            ]
            .concat();
            // The mark wins over the declared encoding.
            for declared in [encoding_rs::UTF_8, encoding_rs::WINDOWS_1252] {
                let table = Table::parse(&marked, "stats.txt", &input(',', declared)).unwrap();
                assert_eq!(table.header, vec!["Nr", "Name", "Einwohner"]);
                let row = table.row_of("7").unwrap();
                assert_eq!(table.text(row, 1), "Hölting");
                assert_eq!(table.number(row, 2).unwrap(), 12345.0);
                assert_eq!(table.rows[1].line, 3);
            }
            // Without the mark: said, with the encoding to set, and read when it is set.
            for declared in [encoding_rs::UTF_8, encoding_rs::WINDOWS_1252] {
                let err = Table::parse(&bytes, "stats.txt", &input(',', declared))
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains("looks like UTF-16 text")
                        && err.contains(&format!("set encoding = \"{label}\""))
                        && !err.contains("windows-1252"),
                    "{err}"
                );
            }
            let declared = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
            let table = Table::parse(&bytes, "stats.txt", &input(',', declared)).unwrap();
            assert_eq!(table.text(table.row_of("8").unwrap(), 1), "Südviertel");
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let parse = |text: &str| {
            Table::parse(
                text.as_bytes(),
                "stats.csv",
                &input(',', encoding_rs::UTF_8),
            )
            .map_err(|e| e.to_string())
        };
        let err = parse("Nr;Wert\n1;2\n01;3\n").unwrap_err();
        assert_eq!(
            err,
            "stats.csv: line 3, column \"Nr\": the district id \"01\" appears twice (lines 2 and 3); expected one row per district"
        );
        let err = parse("Nummer;Wert\n1;2\n").unwrap_err();
        assert!(err.contains("no column \"Nr\""), "{err}");
        let err = parse("Nr;Wert\n1;2;3\n").unwrap_err();
        assert!(err.contains("line 2: 3 cells"), "{err}");
        let table = parse("Nr;Wert\n1;1.234\n2;\n").unwrap();
        let err = table.number(0, 1).unwrap_err().to_string();
        assert_eq!(
            err,
            "stats.csv: line 2, column \"Wert\" (district \"1\"): \"1.234\" is not a number in the declared notation (decimal \",\"): \".\" is not the decimal separator here, and thousands separators are not allowed"
        );
        let err = table.number(1, 1).unwrap_err().to_string();
        assert!(err.contains("line 3, column \"Wert\" (district \"2\"): the cell is empty"));
        let err = Table::parse(
            b"Nr;Wert\n1;H\xf6he\n",
            "stats.csv",
            &input(',', encoding_rs::UTF_8),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("windows-1252"), "{err}");
    }
}
