//! Street names for Musterstadt: German names with umlauts, drawn without repeats until
//! they run out.

use crate::generate::rng::Rng;

pub(super) const PREFIXES: [&str; 56] = [
    "Linden",
    "Kastanien",
    "Mühlen",
    "Königs",
    "Schützen",
    "Gärtner",
    "Brücken",
    "Kirch",
    "Bäcker",
    "Fröbel",
    "Schul",
    "Tannen",
    "Weißdorn",
    "Buchen",
    "Hölderlin",
    "Rosen",
    "Görres",
    "Markt",
    "Düppel",
    "Lärchen",
    "Möwen",
    "Ahorn",
    "Birken",
    "Eschen",
    "Ulmen",
    "Hügel",
    "Wiesen",
    "Feld",
    "Garten",
    "Schiller",
    "Goethe",
    "Lessing",
    "Körner",
    "Uhland",
    "Mörike",
    "Bülow",
    "Blücher",
    "Gneisenau",
    "Scharnhorst",
    "Hardenberg",
    "Fürstenberg",
    "Overberg",
    "Ludgeri",
    "Lamberti",
    "Martini",
    "Mauritz",
    "Hörster",
    "Sonnen",
    "Stern",
    "Flieder",
    "Holunder",
    "Wacholder",
    "Schlehen",
    "Hasel",
    "Nuss",
    "Kräuter",
];

pub(super) const SUFFIXES: [&str; 8] = [
    "straße", "weg", "allee", "gasse", "pfad", "kamp", "damm", "stiege",
];

pub(super) const PLACE_NAMES: [&str; 12] = [
    "Am Stadtgraben",
    "An der Kleimannbrücke",
    "Auf der Horst",
    "Im Grünen Grund",
    "Zur Schleuse",
    "Hinter dem Dom",
    "Über dem Kamp",
    "Am Hörsterfriedhof",
    "Großer Kamp",
    "Kleiner Kamp",
    "Am Kreuztor",
    "Vor dem Neutor",
];

pub(super) const RING: [&str; 4] = [
    "Kaiser-Wilhelm-Ring",
    "Hohenzollernring",
    "Hansaring",
    "Schillerring",
];

pub(super) const RADIALS: [&str; 6] = [
    "Warendorfer Straße",
    "Wolbecker Straße",
    "Hammer Straße",
    "Weseler Straße",
    "Steinfurter Straße",
    "Grevener Straße",
];

pub(super) const BRIDGES: [&str; 14] = [
    "Ludgeribrücke",
    "Kanonierbrücke",
    "Aegidiibrücke",
    "Mühlenbrücke",
    "Königsbrücke",
    "Wienburgbrücke",
    "Lotharinger Brücke",
    "Bischopinkbrücke",
    "Hafenbrücke",
    "Schleusenbrücke",
    "Gievenbecker Brücke",
    "Pleisterbrücke",
    "Werseknie-Brücke",
    "Düstere Brücke",
];

pub(super) fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Street names for the lattice, shuffled, each used once before any repeats.
pub(super) struct Names {
    pool: Vec<String>,
    next: usize,
}

impl Names {
    pub(super) fn new(rng: &mut Rng) -> Names {
        let mut pool: Vec<String> = PREFIXES
            .iter()
            .flat_map(|a| SUFFIXES.iter().map(move |b| format!("{a}{b}")))
            .chain(PLACE_NAMES.iter().map(|s| s.to_string()))
            .collect();
        shuffle(&mut pool, rng);
        Names { pool, next: 0 }
    }

    pub(super) fn take(&mut self) -> String {
        let name = self.pool[self.next % self.pool.len()].clone();
        self.next += 1;
        name
    }
}
