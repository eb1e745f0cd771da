//! A quick reader for the plain features that make up nearly every site and facility layer:
//! a Point, and properties that are plain strings, numbers, true, false or null. It reads
//! only the properties the scenario uses and builds the same `Feature` the full reader would.
//!
//! Anything else (another geometry, an array or object among the properties, an escape in a
//! string, a repeated key, a member it does not know, a syntax error) makes it give up on
//! that feature, and the full serde reader reads it, with its messages. So this reader only
//! has to be right about what it accepts; the tests compare the two on every kind of value.

use std::sync::Arc;

use super::layer::{Feature, Geom, Prop, Properties};

/// The feature in `json`, when it is plain enough; `keys` are the properties to keep.
pub fn quick_feature(json: &str, index: usize, keys: &Arc<[Box<str>]>) -> Option<Feature> {
    let mut cursor = Cursor {
        text: json,
        bytes: json.as_bytes(),
        at: 0,
    };
    let mut kind_seen = false;
    let mut id = None;
    let mut geometry: Option<Option<[f64; 2]>> = None;
    let mut values: Option<Vec<Prop>> = None;
    cursor.object(|cursor, key| match key {
        "type" if !kind_seen => {
            kind_seen = true;
            (cursor.string()? == "Feature").then_some(())
        }
        "id" if id.is_none() => {
            id = Some(cursor.scalar()?);
            Some(())
        }
        "geometry" if geometry.is_none() => {
            geometry = Some(cursor.point()?);
            Some(())
        }
        "properties" if values.is_none() => {
            values = Some(cursor.properties(keys)?);
            Some(())
        }
        _ => None,
    })?;
    cursor.space();
    if !kind_seen || cursor.at != cursor.bytes.len() {
        return None;
    }
    let values = values.unwrap_or_else(|| vec![Prop::Absent; keys.len()]);
    let mut feature = Feature::new(
        index,
        geometry.flatten().map(Geom::Point),
        Properties::new(keys.clone(), values),
    );
    feature.id = id;
    Some(feature)
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, consumed when it is `byte`.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.bytes.get(self.at).copied()
    }

    /// An object whose members are each read by `member` (given the key; the cursor then
    /// stands before the value).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, key)?;
            if self.eat(b',') {
                continue;
            }
            return self.eat(b'}').then_some(());
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        // Strings here are short: a plain loop is quicker than memchr's setup.
        let start = self.at;
        let mut end = start;
        loop {
            match *self.bytes.get(end)? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => end += 1,
            }
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// A number as JSON writes it: its text, and whether it is an integer.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        self.space();
        let bytes = self.bytes;
        let start = self.at;
        let mut at = start;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > from
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let first = *bytes.get(at)?;
        if !digits(&mut at) || (first == b'0' && at - start > 1 + usize::from(bytes[start] == b'-'))
        {
            return None;
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            integer = false;
            if !digits(&mut at) {
                return None;
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            integer = false;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if !digits(&mut at) {
                return None;
            }
        }
        self.at = at;
        Some((self.text.get(start..at)?, integer))
    }

    fn float(&mut self) -> Option<f64> {
        let (text, _) = self.number()?;
        text.parse().ok().filter(|x: &f64| x.is_finite())
    }

    /// A string, number, true, false or null, as serde_json reads it into a property.
    fn scalar(&mut self) -> Option<Prop> {
        match self.peek()? {
            b'"' => Some(Prop::Text(self.string()?.into())),
            b't' => self.literal("true").map(|()| Prop::Bool(true)),
            b'f' => self.literal("false").map(|()| Prop::Bool(false)),
            b'n' => self.literal("null").map(|()| Prop::Null),
            _ => {
                let (text, integer) = self.number()?;
                let number = if !integer {
                    serde_json::Number::from_f64(text.parse().ok()?)?
                } else if let Some(negative) = text.strip_prefix('-') {
                    // -0 is an unsigned zero to serde_json; leave such cases to it.
                    if negative.bytes().all(|b| b == b'0') {
                        return None;
                    }
                    serde_json::Number::from(text.parse::<i64>().ok()?)
                } else {
                    serde_json::Number::from(text.parse::<u64>().ok()?)
                };
                Some(Prop::Number(number))
            }
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// `null`, or a Point geometry: its position (a third number, the height, is dropped).
    fn point(&mut self) -> Option<Option<[f64; 2]>> {
        if self.peek()? == b'n' {
            return self.literal("null").map(|()| None);
        }
        let mut kind = None;
        let mut position = None;
        self.object(|cursor, key| match key {
            "type" if kind.is_none() => {
                kind = Some(cursor.string()?);
                Some(())
            }
            "coordinates" if position.is_none() => {
                position = Some(cursor.position()?);
                Some(())
            }
            _ => None,
        })?;
        (kind? == "Point").then_some(())?;
        Some(Some(position?))
    }

    fn position(&mut self) -> Option<[f64; 2]> {
        if !self.eat(b'[') {
            return None;
        }
        let x = self.float()?;
        if !self.eat(b',') {
            return None;
        }
        let y = self.float()?;
        while self.eat(b',') {
            self.float()?;
        }
        self.eat(b']').then_some([x, y])
    }

    /// `null` or an object of plain values; only those under `keys` are kept.
    fn properties(&mut self, keys: &[Box<str>]) -> Option<Vec<Prop>> {
        let mut values = vec![Prop::Absent; keys.len()];
        if self.peek()? == b'n' {
            self.literal("null")?;
            return Some(values);
        }
        self.object(|cursor, key| {
            let value = cursor.scalar()?;
            if let Some(i) = keys.iter().position(|k| **k == *key) {
                // A repeated key is left to serde_json.
                if values[i] != Prop::Absent {
                    return None;
                }
                values[i] = value;
            }
            Some(())
        })?;
        Some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::read::full_feature::full_feature;

    const KEYS: [&str; 4] = ["id", "capacity", "name", "cost"];

    /// The feature as the full reader (serde) reads it.
    fn full(json: &str) -> Result<Feature, String> {
        let keys: Arc<[Box<str>]> = KEYS.iter().map(|k| Box::from(*k)).collect();
        full_feature(json, "t.geojson", 0, json, Some(&keys)).map_err(|e| e.to_string())
    }

    fn quick(json: &str) -> Option<Feature> {
        let keys: Arc<[Box<str>]> = KEYS.iter().map(|k| Box::from(*k)).collect();
        quick_feature(json, 0, &keys)
    }

    /// Whatever the quick reader accepts, the full reader reads the same.
    fn agrees(json: &str) -> bool {
        match quick(json) {
            Some(feature) => {
                let expected = full(json).unwrap_or_else(|e| panic!("{json}: {e}"));
                assert_eq!(format!("{feature:?}"), format!("{expected:?}"), "{json}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_plain_features_as_the_full_reader_does() {
        for json in [
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[392553.33,5746039.76]},"properties":{"id":"S-0000000","capacity":5,"status":"candidate","occupied":0,"cost":633}}"#,
            r#"{ "type": "Feature", "properties": { "id": 17, "name": "Straße am Ölberg", "capacity": 50, "cost": null }, "geometry": { "type": "Point", "coordinates": [ 7.6, 51.9, 60.0 ] } }"#,
            r#"{"type":"Feature","id":"a","geometry":null,"properties":null}"#,
            r#"{"type":"Feature","id":-12,"geometry":{"coordinates":[1e3,-2.5E-2],"type":"Point"},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[0,-0.0]},"properties":{"cost":1.0000000000000002,"capacity":true,"id":false}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"capacity":18446744073709551615,"cost":-9223372036854775808,"x":0.1}}"#,
            "{\"type\":\"Feature\",\n\t\"properties\":{\"name\":\"\",\"other\":\"ü\"},\r\n\"geometry\":{\"type\":\"Point\",\"coordinates\":[1.7976931348623157e308,5e-324]}}",
        ] {
            assert!(agrees(json), "not read quickly: {json}");
        }
    }

    #[test]
    fn leaves_everything_else_to_the_full_reader() {
        for json in [
            // Another geometry, or members and values it does not read.
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"tags":[1,2]}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{},"bbox":[1,2,1,2]}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"crs":null},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"a\"b"}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"id":1,"id":2}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"cost":-0}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"cost":1e400}}"#,
            // Broken features: the full reader names what is wrong.
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1]},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":["1",2]},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"type":"Point"},"properties":{}}"#,
            r#"{"type":"Feature","geometry":{"coordinates":[1,2]},"properties":{}}"#,
            r#"{"type":"Featur","geometry":null,"properties":{}}"#,
            r#"{"geometry":null,"properties":{}}"#,
            r#"{"type":"Feature","properties":{"capacity":01}}"#,
            r#"{"type":"Feature","properties":{"capacity":1.}}"#,
            r#"{"type":"Feature","properties":{"capacity":.5}}"#,
            r#"{"type":"Feature","properties":{"capacity":+5}}"#,
            r#"{"type":"Feature","properties":{"capacity":tru}}"#,
            r#"{"type":"Feature","properties":{"capacity":5,}}"#,
            r#"{"type":"Feature","properties":{"capacity":5}} x"#,
            "{\"type\":\"Feature\",\"properties\":{\"name\":\"a\tb\"}}",
        ] {
            assert!(quick(json).is_none(), "read quickly: {json}");
        }
    }

    /// Random plain features built from pieces that are each valid, written in random key
    /// order and spacing: the quick reader must read every one, as the full reader does.
    #[test]
    fn random_plain_features_agree() {
        let values = [
            "0",
            "7",
            "-3",
            "12.5",
            "-0.125",
            "1e2",
            "2.5E-3",
            "4294967296",
            "\"\"",
            "\"x\"",
            "\"Hauptstraße 1\"",
            "\"  42 \"",
            "true",
            "false",
            "null",
        ];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..2000 {
            let space = [" ", "", "\n  "][next(3)];
            let mut properties = Vec::new();
            for key in ["id", "capacity", "name", "cost", "other"] {
                if next(4) > 0 {
                    properties.push(format!("\"{key}\":{space}{}", values[next(values.len())]));
                }
            }
            if next(2) == 0 {
                properties.reverse();
            }
            let x = format!("{}.{}", next(1_000_000), next(100));
            let mut members = vec![
                "\"type\": \"Feature\"".to_string(),
                format!(
                    "\"geometry\": {{\"type\": \"Point\", \"coordinates\": [{x},{space}{}]}}",
                    values[next(8)]
                ),
                format!(
                    "\"properties\": {{{}}}",
                    properties.join(&format!(",{space}"))
                ),
            ];
            if next(3) == 0 {
                members.push(format!("\"id\": {}", values[next(values.len())]));
            }
            let shift = next(members.len());
            members.rotate_left(shift);
            let json = format!("{{{space}{}{space}}}", members.join(&format!(",{space}")));
            assert!(agrees(&json), "not read quickly: {json}");
        }
    }
}
