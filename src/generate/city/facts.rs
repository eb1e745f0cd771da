//! A generated city's figures and the scenarios written next to it.

use super::*;

/// Figures of a generated city, for the command's summary and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct CityFacts {
    /// "Münster-like city", "mid-size city".
    pub label: &'static str,
    pub districts: usize,
    /// Stadtbezirke (groups of districts).
    pub bezirke: usize,
    pub residents: u64,
    /// Residents of the smallest and the largest district.
    pub smallest: u64,
    pub largest: u64,
    pub sites: u64,
    /// Sites by kind: flat, row_house, shared, hall, existing.
    pub kinds: [(&'static str, u64); 5],
    /// Occupied places at existing accommodation.
    pub occupied: u64,
    pub excluded: u64,
    /// Offers just outside the city limits.
    pub outside: u64,
    pub with_cost: u64,
    pub schools: usize,
    pub kitas: usize,
    pub stops: usize,
    /// New places asked for in `scenario.toml`.
    pub demand: u64,
}

impl City {
    /// Counts what the layers hold (draws every site once more).
    pub fn facts(&self) -> CityFacts {
        let mut kinds = [
            ("flat", 0),
            ("row_house", 0),
            ("shared", 0),
            ("hall", 0),
            ("existing", 0),
        ];
        let (mut occupied, mut excluded, mut outside, mut with_cost) = (0, 0, 0, 0);
        for i in 0..self.spec.sites {
            let s = self.site(i);
            if let Some(entry) = kinds.iter_mut().find(|(k, _)| *k == s.kind) {
                entry.1 += 1;
            }
            occupied += s.occupied;
            excluded += u64::from(s.status == "excluded");
            outside += u64::from(s.outside);
            with_cost += u64::from(s.cost.is_some());
        }
        let populations = self.districts.iter().map(|d| d.population);
        let mut bezirke: Vec<&str> = self.districts.iter().map(|d| d.bezirk).collect();
        bezirke.sort_unstable();
        bezirke.dedup();
        CityFacts {
            label: self.profile.label,
            districts: self.districts.len(),
            bezirke: bezirke.len(),
            residents: populations.clone().sum(),
            smallest: populations.clone().min().unwrap_or(0),
            largest: populations.max().unwrap_or(0),
            sites: self.spec.sites,
            kinds,
            occupied,
            excluded,
            outside,
            with_cost,
            schools: self.schools.len(),
            kitas: self.kitas.len(),
            stops: self.stops.len(),
            demand: self.demand(),
        }
    }

    /// New places of the base scenario: 1.5 % of the residents in the Münster-like city (no
    /// share cap there); 0.7 % in the mid-size city, where with the existing places (about
    /// 0.5 %) that fills most districts close to the share cap of 1.2 %, and the spacing rule
    /// binds in the core.
    fn demand(&self) -> u64 {
        let share = match self.spec.preset {
            CityPreset::Muenster => 0.015,
            CityPreset::Midsize => 0.007,
        };
        ((self.spec.residents as f64 * share).round() as u64).max(3)
    }

    /// The scenario files written next to the layers, as `(file name, TOML)`:
    /// `scenario.toml` (the base), `spacing_levels.toml` (spacing 300 m / 120 places and three
    /// demand levels) and `spread_access.toml` (the stages spread and access after evenness).
    pub fn scenarios(&self) -> Vec<(&'static str, String)> {
        let demand = self.demand();
        let label = self.profile.label;
        let seed = self.spec.seed;
        let command = self.spec.command();
        let header = |what: &str| {
            format!(
                "# {what}\n# The city: a synthetic {label}, written with\n#   {command} --out DIR\n"
            )
        };
        let input = "[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n\n[input.facilities]\nschool = \"schools.geojson\"\nkita = \"kitas.geojson\"\ntransit = \"stops.geojson\"\n";
        let levels = format!(
            "levels = [{}, {}, {demand}]   # a third, two thirds and all of the demand of scenario.toml",
            (demand as f64 / 3.0).round() as u64,
            (2.0 * demand as f64 / 3.0).round() as u64,
        );
        let solver = "[solver]\nmip_gap = 1e-6\n";
        let spread_access = "[objective]\nstages = [\"shortfall\", \"evenness\", \"spread\", \"access\", \"cost\"]\nspread_metres = 500\naccess_kinds = [\"school\", \"kita\"]\n";
        match self.spec.preset {
            CityPreset::Muenster => {
                let base_rules = "[rules]\nmax_per_site = 50\n";
                let spacing = "radius = { metres = 300, max_places = 120 }\n";
                vec![
                    (
                        "scenario.toml",
                        format!(
                            "{}# The Münster rule: at most 50 places per site, places in proportion to\n# population. Demand: 1.5 % of the residents. Spacing goes on with\n#   sed -i 's/^# radius = /radius = /' scenario.toml\nname = \"{label} (seed {seed}): max 50 per site, even by population\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{base_rules}# {spacing}\n{solver}",
                            header("The base scenario."),
                        ),
                    ),
                    (
                        "spacing_levels.toml",
                        format!(
                            "{}# The base scenario with spacing (at most 120 places within 300 m of any site) and\n# the demand as three forecast levels: one nested plan that grows level by level.\nname = \"{label} (seed {seed}): spacing 300 m / 120, three demand levels\"\n\n{input}\n[demand]\n{levels}\n\n{base_rules}{spacing}\n{solver}",
                            header("Spacing with demand levels."),
                        ),
                    ),
                    (
                        "spread_access.toml",
                        format!(
                            "{}# The base scenario with spacing (at most 120 places within 300 m of any site);\n# after evenness, the fewest new places within 500 m of any site, then the shortest\n# distances to schools and Kitas, then the cost.\nname = \"{label} (seed {seed}): spacing 300 m / 120, spread within 500 m, access to schools and Kitas\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{base_rules}{spacing}\n{spread_access}\n{solver}",
                            header("Spread and access stages."),
                        ),
                    ),
                ]
            }
            CityPreset::Midsize => {
                let rules = |metres: u32, places: u32| {
                    format!(
                        "[rules]\nmax_per_site = 50\nmax_share = 0.012\nradius = {{ metres = {metres}, max_places = {places} }}\naccess = {{ school = 1200, kita = 900 }}\n"
                    )
                };
                vec![
                    (
                        "scenario.toml",
                        format!(
                            "{}# The mid-size city benchmark: at most 50 places per site, at most 150 places\n# within 400 m of any site, a primary school within 1,200 m and a Kita within 900 m,\n# no district above 1.2 % of its residents; row houses take 10 places or none.\n# Demand: 0.7 % of the residents.\nname = \"{label} (seed {seed}): spacing 400 m / 150, school 1,200 m, Kita 900 m, share cap 1.2 %\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{}\n{solver}",
                            header("The base scenario."),
                            rules(400, 150),
                        ),
                    ),
                    (
                        "spacing_levels.toml",
                        format!(
                            "{}# The rules of scenario.toml with tighter spacing (at most 120 places within 300 m)\n# and the demand as three forecast levels: one nested plan that grows level by level.\nname = \"{label} (seed {seed}): spacing 300 m / 120, three demand levels\"\n\n{input}\n[demand]\n{levels}\n\n{}\n{solver}",
                            header("Spacing with demand levels."),
                            rules(300, 120),
                        ),
                    ),
                    (
                        "spread_access.toml",
                        format!(
                            "{}# The rules of scenario.toml; after evenness, the fewest new places within 500 m of\n# any site, then the shortest distances to schools and Kitas, then the cost.\nname = \"{label} (seed {seed}): spread within 500 m, access to schools and Kitas\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{}\n{spread_access}\n{solver}# Access and cost after spread are hard integer programs here (row houses take all or\n# nothing): HiGHS takes minutes to prove each. After this many seconds quartier writes\n# the best plan found, with how far from the optimum it can be at most.\ntime_limit_s = 120\n",
                            header("Spread and access stages."),
                            rules(400, 150),
                        ),
                    ),
                ]
            }
        }
    }
}
