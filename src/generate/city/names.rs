//! Names of a generated city: districts, quarters and streets, with umlauts and ß.

use crate::generate::rng::Rng;

pub(super) const BEZIRKE: [&str; 6] = ["Mitte", "Ost", "Nord", "West", "Süd-West", "Süd"];

/// Names for districts of the centre.
const QUARTERS: [&str; 16] = [
    "Altstadt",
    "Domviertel",
    "Bahnhofsviertel",
    "Schloßviertel",
    "Kreuzviertel",
    "Südviertel",
    "Hafenviertel",
    "Überwasser",
    "Martiniviertel",
    "Mauritzviertel",
    "Rosenplätzchen",
    "Neutor",
    "Hansaviertel",
    "Josefsviertel",
    "Gärtnerviertel",
    "Mühlenhof",
];

const NAME_STARTS: [&str; 24] = [
    "Mühl", "Bröck", "Hölt", "Gräf", "Lüd", "Kött", "Düs", "Rüsch", "Wöll", "Häm", "Schön", "Groß",
    "Weiß", "Süß", "Bärn", "Förd", "Hüls", "Löns", "Dörn", "Fürst", "Lind", "Eich", "Brand",
    "Wolb",
];

const NAME_ENDS: [&str; 16] = [
    "enfeld", "ingen", "hausen", "beck", "horst", "kamp", "heide", "dorf", "bruch", "brück", "hof",
    "au", "stede", "loh", "büren", "winkel",
];

const STREET_STARTS: [&str; 20] = [
    "Mühlen",
    "Schützen",
    "Gärtner",
    "Brücken",
    "Kirch",
    "Linden",
    "Grüner ",
    "Bäcker",
    "Königs",
    "Fröbel",
    "Bahnhof",
    "Schul",
    "Tannen",
    "Weißdorn",
    "Buchen",
    "Hölderlin",
    "Rosen",
    "Görres",
    "Markt",
    "Düppel",
];

const STREET_ENDS: [&str; 8] = [
    "straße", "weg", "allee", "ring", "gasse", "pfad", "damm", "kamp",
];

/// Unique district names: quarters for the centre, compounds elsewhere, numbered when a very
/// large city runs out of compounds.
pub(super) fn district_names(centre: usize, total: usize, rng: &mut Rng) -> Vec<String> {
    let mut quarters: Vec<String> = QUARTERS.iter().map(|s| s.to_string()).collect();
    let mut compounds: Vec<String> = NAME_STARTS
        .iter()
        .flat_map(|a| NAME_ENDS.iter().map(move |b| format!("{a}{b}")))
        .collect();
    shuffle(&mut quarters, rng);
    shuffle(&mut compounds, rng);
    let mut quarters = quarters.into_iter();
    let mut names = Vec::with_capacity(total);
    let mut next_compound = 0usize;
    for i in 0..total {
        let quarter = if i < centre { quarters.next() } else { None };
        names.push(quarter.unwrap_or_else(|| {
            let k = next_compound;
            next_compound += 1;
            let base = &compounds[k % compounds.len()];
            match k / compounds.len() {
                0 => base.clone(),
                round => format!("{base} {}", round + 1),
            }
        }));
    }
    names
}

pub(super) fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

pub(super) fn street_name(rng: &mut Rng) -> String {
    let a = STREET_STARTS[(rng.next_u64() % STREET_STARTS.len() as u64) as usize];
    let b = STREET_ENDS[(rng.next_u64() % STREET_ENDS.len() as u64) as usize];
    if a.ends_with(' ') {
        // "Grüner Weg"
        let mut chars = b.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
        format!("{a}{}{}", first.unwrap_or_default(), chars.as_str())
    } else {
        format!("{a}{b}")
    }
}
