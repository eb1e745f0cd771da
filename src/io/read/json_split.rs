//! One quick scan over the bytes of a GeoJSON FeatureCollection that finds where each
//! feature starts and ends, so that the features can be parsed on every core at once.
//!
//! serde_json can keep each feature as raw text, but it finds their ends by tokenising every
//! number and string, on one core: about a fifth of the time of reading a million sites.
//! This scan looks only at quotes, backslashes, brackets and commas. It does not check the
//! JSON: each feature is parsed afterwards, and the rest of the collection (its `type`, `crs`
//! and anything else) is parsed from a copy with the features array left empty. Whenever the
//! text is not shaped as the scan expects, it gives up, and the caller parses the whole text
//! as before, with every message as it was.

use std::ops::Range;

use rayon::prelude::*;

/// A FeatureCollection cut into its parts.
pub struct Split {
    /// The collection with its features array emptied (`"features": []`).
    pub outer: String,
    /// The byte range of each feature object, in file order.
    pub features: Vec<Range<usize>>,
}

/// Finds the `features` array of the top-level object and the range of each of its objects;
/// `None` when the text is not a collection of that shape (the full parse says why).
///
/// Each range must still be parsed as exactly one object (`parse_feature` does): the quick
/// way below checks only what lies between the features.
pub fn split_collection(text: &str) -> Option<Split> {
    let bytes = text.as_bytes();
    let open = features_array(bytes)?;
    let (features, close) = by_lines(bytes, open + 1).or_else(|| by_scan(bytes, open + 1))?;
    let mut outer = String::with_capacity(open + 2 + bytes.len() - close);
    outer.push_str(&text[..open]);
    outer.push_str("[]");
    outer.push_str(&text[close + 1..]);
    Some(Split { outer, features })
}

/// Features that each begin a line, as GDAL, QGIS and most writers put them (one feature
/// per line, or one pretty-printed feature after another): the lines are found with
/// memchr, on every core, and only the bytes between two features are looked at, which
/// must be `}`, a comma and whitespace. The last feature is scanned to find the closing
/// bracket. A line inside a feature that begins with `{` cuts a feature in two, which its
/// parse then refuses (the careful reader takes over).
fn by_lines(bytes: &[u8], first: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let start = skip_space(bytes, first);
    if bytes.get(start) != Some(&b'{') {
        return None;
    }
    let pieces = 4 * rayon::current_num_threads().max(1);
    let length = bytes.len() - start;
    let found: Vec<Vec<usize>> = (0..pieces)
        .into_par_iter()
        .map(|k| {
            let (from, to) = (
                start + length * k / pieces,
                start + length * (k + 1) / pieces,
            );
            memchr::memchr_iter(b'\n', &bytes[from..to])
                .filter_map(|at| {
                    let mut next = from + at + 1;
                    while let Some(b' ' | b'\t' | b'\r') = bytes.get(next) {
                        next += 1;
                    }
                    (bytes.get(next) == Some(&b'{')).then_some(next)
                })
                .collect()
        })
        .collect();
    let mut starts = Vec::with_capacity(found.iter().map(Vec::len).sum::<usize>() + 1);
    starts.push(start);
    starts.extend(found.into_iter().flatten().filter(|&at| at > start));
    // Each feature ends where the next one's separator begins.
    let mut features: Vec<Option<Range<usize>>> = Vec::with_capacity(starts.len());
    starts
        .par_windows(2)
        .map(|pair| {
            let comma = skip_space_back(bytes, pair[1])?;
            let brace = skip_space_back(bytes, comma)?;
            (bytes[comma] == b',' && bytes[brace] == b'}' && brace > pair[0])
                .then_some(pair[0]..brace + 1)
        })
        .collect_into_vec(&mut features);
    if features.iter().any(Option::is_none) {
        return None;
    }
    let mut features: Vec<Range<usize>> = features.into_iter().flatten().collect();
    let last = *starts.last()?;
    let end = object_end(bytes, last)?;
    let close = skip_space(bytes, end);
    if bytes.get(close) != Some(&b']') {
        return None;
    }
    features.push(last..end);
    Some((features, close))
}

/// Features found by scanning every byte of the array: the array is cut into pieces, one
/// scan per piece on every core. A piece starts at a guess (a `{` after `},`), and the
/// guesses are proven: the scan of the piece before, which starts at a true feature, must
/// arrive exactly there. A guess inside a string fails the proof, and the array is then
/// scanned from its start on one core.
fn by_scan(bytes: &[u8], first: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let pieces = 4 * rayon::current_num_threads().max(1);
    let mut starts = vec![first];
    if bytes.len() - first > (1 << 20) {
        for k in 1..pieces {
            let guess = first + (bytes.len() - first) * k / pieces;
            match next_guess(bytes, guess) {
                Some(at) if at > *starts.last().unwrap_or(&first) => starts.push(at),
                _ => {}
            }
        }
    }
    let scans: Vec<Option<(Vec<Range<usize>>, End)>> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let stop = starts.get(k + 1).copied().unwrap_or(usize::MAX);
            // Room for features of about 100 bytes (sites are 150–200), so the list is
            // rarely copied while it grows.
            let end = stop.min(bytes.len());
            let mut found = Vec::with_capacity(end.saturating_sub(starts[k]) / 100);
            let end = elements(bytes, starts[k], stop, k == 0, &mut found)?;
            Some((found, end))
        })
        .collect();
    let proven = scans
        .iter()
        .enumerate()
        .all(|(k, scan)| match (scan, starts.get(k + 1)) {
            (Some((_, End::Next(at))), Some(next)) => at == next,
            (Some((_, End::Closed(_))), None) => true,
            _ => false,
        });
    if proven {
        let mut close = 0;
        let mut features = Vec::with_capacity(scans.iter().flatten().map(|s| s.0.len()).sum());
        for (found, end) in scans.into_iter().flatten() {
            features.extend(found);
            if let End::Closed(at) = end {
                close = at;
            }
        }
        Some((features, close))
    } else {
        let mut features = Vec::new();
        match elements(bytes, first, usize::MAX, true, &mut features)? {
            End::Closed(at) => Some((features, at)),
            End::Next(_) => None,
        }
    }
}

/// How a scan of features ended.
enum End {
    /// At the start of a feature at or after the stop.
    Next(usize),
    /// At the array's closing bracket.
    Closed(usize),
}

/// Scans the objects of the array from `at` (just after `[` when `first`, else just after a
/// comma) until one starts at or after `stop`, or the array closes.
fn elements(
    bytes: &[u8],
    mut at: usize,
    stop: usize,
    mut first: bool,
    found: &mut Vec<Range<usize>>,
) -> Option<End> {
    loop {
        at = skip_space(bytes, at);
        match bytes.get(at)? {
            b']' if first => return Some(End::Closed(at)),
            b'{' => {}
            _ => return None,
        }
        if at >= stop {
            return Some(End::Next(at));
        }
        let end = object_end(bytes, at)?;
        found.push(at..end);
        at = skip_space(bytes, end);
        match bytes.get(at)? {
            b',' => {
                at += 1;
                first = false;
            }
            b']' => return Some(End::Closed(at)),
            _ => return None,
        }
    }
}

/// The index just after the object that starts at `at` (brackets of either kind counted;
/// the object is parsed properly afterwards).
fn object_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    let mut depth = 0usize;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = string_end(bytes, at + 1)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The index of the `[` that opens the top-level object's `features` array.
fn features_array(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    // The last string directly inside the top-level object (a key, or a value).
    let mut top_string = 0..0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at + 1)?;
                if depth == 1 {
                    top_string = at + 1..end;
                }
                at = end;
            }
            b'{' | b'[' => {
                if depth == 1
                    && bytes[at] == b'['
                    && &bytes[top_string.clone()] == b"features"
                    && previous_token(bytes, at) == Some(b':')
                {
                    return Some(at);
                }
                depth += 1;
            }
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        at += 1;
    }
    None
}

/// A likely feature start at or after `from`: a `{` after `}` and a comma.
fn next_guess(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr(b'{', &bytes[from..])?;
        let before = skip_space_back(bytes, at)?;
        if bytes[before] == b',' && bytes[skip_space_back(bytes, before)?] == b'}' {
            return Some(at);
        }
        from = at + 1;
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\n' | b'\r' | b'\t') {
        at += 1;
    }
    at
}

/// The index of the last byte before `at` that is not whitespace.
fn skip_space_back(bytes: &[u8], at: usize) -> Option<usize> {
    bytes[..at]
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

/// The index of the quote that closes the string whose text starts at `from` (strings in
/// GeoJSON are short: a plain loop is quicker than memchr's setup).
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at),
            // A backslash escapes the next byte (a quote, a backslash or an escape letter).
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The last byte before `at` that is not whitespace.
fn previous_token(bytes: &[u8], at: usize) -> Option<u8> {
    skip_space_back(bytes, at).map(|i| bytes[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<(String, Vec<&str>)> {
        split_collection(text).map(|s| {
            let features = s.features.iter().map(|r| &text[r.clone()]).collect();
            (s.outer, features)
        })
    }

    #[test]
    fn finds_each_feature_and_empties_the_array() {
        let text = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "Straße \"Nord\" {1}", "x": [1, 2]}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}
], "crs": {"type": "name", "properties": {"name": "EPSG:25832"}}}"#;
        let (outer, features) = parts(text).unwrap();
        assert_eq!(
            outer,
            r#"{"type": "FeatureCollection", "features": [], "crs": {"type": "name", "properties": {"name": "EPSG:25832"}}}"#
        );
        assert_eq!(features.len(), 2);
        assert!(features[0].starts_with("{\"type\": \"Feature\""));
        assert!(features[0].ends_with("[1, 2]}}"));
        assert!(features[1].ends_with("\"properties\":{}}"));
    }

    #[test]
    fn an_empty_array_has_no_features() {
        let (outer, features) = parts(r#"{"type":"FeatureCollection","features":[ ]}"#).unwrap();
        assert_eq!(outer, r#"{"type":"FeatureCollection","features":[]}"#);
        assert!(features.is_empty());
    }

    #[test]
    fn a_key_named_features_deeper_down_is_not_the_array() {
        let text = r#"{"meta": {"features": [{"a": 1}]}, "features": [{"b": 2}]}"#;
        let (_, features) = parts(text).unwrap();
        assert_eq!(features, vec![r#"{"b": 2}"#]);
        // A string value "features" before an array value is not a key.
        assert!(parts(r#"{"type": "features", "x": [1]}"#).is_none());
    }

    #[test]
    fn gives_up_on_text_that_is_not_shaped_as_expected() {
        for text in [
            r#"{"features": [{"a": 1},]}"#,
            r#"{"features": [,{"a": 1}]}"#,
            r#"{"features": [{"a": 1},,{"b": 2}]}"#,
            r#"{"features": [{"a": 1} {"b": 2}]}"#,
            r#"{"features": [1, 2]}"#,
            r#"{"features": ["a"]}"#,
            r#"{"features": [{"a": "unterminated}]}"#,
            r#"{"features": [{"a": 1}"#,
            r#"{"type": "FeatureCollection"}"#,
            r#"[1, 2]"#,
            "",
        ] {
            assert!(parts(text).is_none(), "{text}");
        }
    }

    #[test]
    fn what_follows_the_array_is_left_to_the_parse_of_the_outer_text() {
        let (outer, _) = parts(r#"{"features": [{"a": 1}]}}"#).unwrap();
        assert_eq!(outer, r#"{"features": []}}"#);
        let (outer, _) = parts(r#"{"features": [{"a": 1}]"#).unwrap();
        assert_eq!(outer, r#"{"features": []"#);
    }

    /// A collection of several megabytes is cut into pieces; guesses that land inside a
    /// string are caught, and the features are the ones serde finds.
    #[test]
    fn pieces_agree_with_serde_even_when_strings_look_like_feature_boundaries() {
        for tricky in ["plain", "a},{b", "x}, {\\\"y\\\\", "}\\n,\\n{"] {
            let features: Vec<String> = (0..40_000)
                .map(|i| {
                    format!(
                        r#"{{"type":"Feature","properties":{{"id":{i},"name":"{tricky}"}},"geometry":{{"type":"Point","coordinates":[{i}.5,2]}}}}"#
                    )
                })
                .collect();
            let text = format!(
                "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n],\"name\":\"t\"}}",
                features.join(",\n")
            );
            assert!(text.len() > 4 << 20);
            let (outer, found) = parts(&text).unwrap();
            assert_eq!(
                outer,
                r#"{"type":"FeatureCollection","features":[],"name":"t"}"#
            );
            #[derive(serde::Deserialize)]
            struct Raw<'a> {
                #[serde(borrow)]
                features: Vec<&'a serde_json::value::RawValue>,
            }
            let raw: Raw = serde_json::from_str(&text).unwrap();
            let expected: Vec<&str> = raw.features.iter().map(|f| f.get()).collect();
            assert_eq!(found, expected, "{tricky}");
        }
    }

    #[test]
    fn escaped_quotes_and_backslashes_stay_inside_strings() {
        let text = r#"{"features": [{"a": "x\\"}, {"b": "\"}\\\""}]}"#;
        let (_, features) = parts(text).unwrap();
        assert_eq!(features, vec![r#"{"a": "x\\"}"#, r#"{"b": "\"}\\\""}"#]);
    }
}
