//! The keys the scenario format knows, and the messages for what was mistyped: an unknown
//! key with the nearest known name, a TOML syntax error with its line and column.

/// Every key the scenario format knows, by table; `*` marks tables whose keys are free
/// (facility kinds, access kinds).
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "name",
            "input",
            "fields",
            "demand",
            "rules",
            "objective",
            "solver",
            "output",
            "network",
            "sweep",
        ],
    ),
    (
        "input",
        &[
            "districts",
            "sites",
            "crs",
            "metric_crs",
            "facilities",
            "statistics",
            "network",
        ],
    ),
    ("input.facilities", &["*"]),
    (
        "input.statistics",
        &["file", "key", "delimiter", "decimal", "encoding"],
    ),
    ("fields", &["districts", "sites", "facilities"]),
    (
        "fields.districts",
        &["id", "name", "population", "weight", "existing"],
    ),
    (
        "fields.sites",
        &["id", "capacity", "status", "occupied", "min_places", "cost"],
    ),
    ("fields.facilities", &["id", "seats"]),
    ("demand", &["places", "levels", "weights"]),
    (
        "rules",
        &[
            "max_per_site",
            "max_share",
            "radius",
            "access",
            "seats",
            "district",
        ],
    ),
    ("rules.district", &["where", "max_share", "max_new"]),
    ("rules.radius", &["metres", "max_places"]),
    ("rules.access", &["*"]),
    ("rules.seats", &["kind", "per_place"]),
    ("objective", &["stages", "spread_metres", "access_kinds"]),
    ("solver", &["time_limit_s", "mip_gap", "threads"]),
    ("output", &["dir"]),
    ("network", &["max_snap_m", "routes"]),
    // `quartier sweep`: scenario keys by their dotted paths, checked when a sweep runs.
    ("sweep", &["*"]),
];

pub(super) fn describe_toml_error(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim();
    match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {message}"),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub(super) fn check_keys(table: &toml::Table, path: &str) -> Result<(), String> {
    let Some((_, known)) = KNOWN_KEYS.iter().find(|(p, _)| *p == path) else {
        return Ok(());
    };
    if known == &["*"] {
        return Ok(());
    }
    for (key, value) in table {
        if !known.contains(&key.as_str()) {
            let section = if path.is_empty() {
                "the top level".to_string()
            } else {
                format!("[{path}]")
            };
            return Err(format!(
                "unknown key \"{key}\" in {section}{}",
                suggestion(key, known)
            ));
        }
        let inner_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            toml::Value::Table(inner) => check_keys(inner, &inner_path)?,
            // [[rules.district]]: an array of tables.
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        check_keys(inner, &inner_path)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// ` (did you mean "x"?)` when a known name is close to what was typed.
pub(crate) fn suggestion(typed: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (edit_distance(typed, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}
