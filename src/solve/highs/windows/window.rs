//! One window: its LP with every other place held, and the LP's optimum rounded to whole
//! places that keep every rule.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::{Search, Windows, ROUNDINGS};
use crate::generate::rng::Rng;
use crate::solve::program::sparse::{Col, Program, Settings};

/// A window's LP: its program and objective, each site's column, and the window's places
/// now, its evenness terms now and the places elsewhere that can be given up.
struct WindowProgram {
    program: Program,
    objective: Vec<(Col, f64)>,
    sites: Vec<usize>,
    column_of: HashMap<usize, Col>,
    held: u64,
    current: f64,
    donors: Vec<(f64, u32)>,
}

impl Windows<'_> {
    /// The window's LP: a column per usable site (and an opening column per site with a
    /// minimum occupancy), |a_d − t_d| = p_d + m_d per district with its share cap, every
    /// ball and seat limit around its sites with the places outside held, and the window's
    /// places = its places now + those taken from elsewhere, in groups by what each gives
    /// at least (1, then tenths).
    fn window_program(&self, window: &[usize]) -> WindowProgram {
        let prepared = self.prepared;
        let mut in_window = vec![false; self.districts()];
        for &d in window {
            in_window[d] = true;
        }
        let mut program = Program {
            only_a_plan: true,
            ..Program::default()
        };
        let mut objective = Vec::new();
        let sites: Vec<usize> = window
            .iter()
            .flat_map(|&d| self.sites_of[d].iter().map(|&s| s as usize))
            .collect();
        let mut column_of = HashMap::with_capacity(sites.len());
        let mut held = 0u64;
        for &s in &sites {
            let room = f64::from(prepared.site_room[s]);
            let c = program.add_column(0.0, room, true);
            column_of.insert(s, c);
            held += u64::from(self.plan.places[s]);
            let least = self.instance.sites[s].min_places;
            if least > 1 {
                let open = program.add_column(0.0, 1.0, true);
                program.add_row(vec![(c, 1.0), (open, -room)], 0.0, false);
                program.add_row(vec![(c, -1.0), (open, f64::from(least))], 0.0, false);
            }
        }
        let mut current = 0.0;
        for &d in window {
            let terms: Vec<(Col, f64)> = self.sites_of[d]
                .iter()
                .map(|&s| (column_of[&(s as usize)], 1.0))
                .collect();
            if let Some(room) = prepared.share_room[d] {
                program.add_row(terms.clone(), room as f64, false);
            }
            // |a − kink| as whole places count it (with the chord cut), so that the LP rounds
            // the district's total the way that lowers evenness.
            let columns: Vec<Col> = terms.iter().map(|&(c, _)| c).collect();
            let kink = prepared.target[d] - prepared.district_existing[d];
            let (p, m, _) = program.add_deviation(&columns, kink);
            objective.extend([(p, 1.0), (m, 1.0)]);
            current += self.deviation(d).abs();
        }
        let mut balls: Vec<u32> = sites
            .iter()
            .flat_map(|&s| self.balls.balls_of(s).iter().copied())
            .collect();
        balls.sort_unstable();
        balls.dedup();
        for &b in &balls {
            let ball = &prepared.spacing[b as usize];
            let (mut inside, mut room, mut terms) = (0u64, 0u64, Vec::new());
            for &s in &ball.members {
                if let Some(&c) = column_of.get(&(s as usize)) {
                    inside += u64::from(self.plan.places[s as usize]);
                    room += u64::from(prepared.site_room[s as usize]);
                    terms.push((c, 1.0));
                }
            }
            let left = ball
                .room
                .saturating_sub(self.ball_load[b as usize] - inside);
            if room > left {
                program.add_row(terms, left as f64, false);
            }
        }
        let mut seats: BTreeMap<usize, (u64, Vec<(Col, f64)>)> = BTreeMap::new();
        for &s in &sites {
            let limited = prepared.seat_facility[s]
                .map(|f| f as usize)
                .filter(|&f| prepared.seat_room.get(f).copied().flatten().is_some());
            if let Some(f) = limited {
                let entry = seats.entry(f).or_default();
                entry.0 += u64::from(self.plan.places[s]);
                entry.1.push((column_of[&s], 1.0));
            }
        }
        for (f, (inside, terms)) in seats {
            let room = prepared.seat_room[f].unwrap_or(u64::MAX);
            let left = room.saturating_sub(self.seat_load[f] - inside);
            program.add_row(terms, left as f64, false);
        }
        let donors = self.donors(&in_window);
        let mut row: Vec<(Col, f64)> = sites.iter().map(|s| (column_of[s], 1.0)).collect();
        let mut from = 0;
        while from < donors.len() {
            let least = if donors[from].0 >= 1.0 {
                1.0
            } else {
                (donors[from].0 * 10.0).floor() / 10.0
            };
            let to = from + donors[from..].iter().take_while(|g| g.0 >= least).count();
            let more = program.add_column(0.0, (to - from) as f64, false);
            row.push((more, -1.0));
            objective.push((more, -least));
            from = to;
        }
        program.add_row(row, held as f64, true);
        WindowProgram {
            program,
            objective,
            sites,
            column_of,
            held,
            current,
            donors,
        }
    }

    /// The window's LP optimum, rounded `ROUNDINGS` times, or its MIP's plan (then filled
    /// up where places still fit); the best is kept where it lowers evenness, with the
    /// places it takes from elsewhere.
    pub(super) fn solve_window(&mut self, window: &[usize], deadline: Instant, how: Search) {
        let lp = self.window_program(window);
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        let settings = Settings {
            time_limit_s: Some(left.min(how.limit_s)),
            mip_gap: 1e-6,
            threads: 1,
        };
        let Ok(result) = lp.program.minimise(&lp.objective, settings, !how.whole) else {
            return;
        };
        let value = |s: usize| result.values[lp.column_of[&s]];
        let before: Vec<u32> = lp.sites.iter().map(|&s| self.plan.places[s]).collect();
        let fractions: Vec<(f64, usize)> = lp
            .sites
            .iter()
            .map(|&s| (value(s) - (value(s) + 1e-7).floor(), s))
            .filter(|&(f, _)| f > 1e-6)
            .collect();
        let mut best: Option<(f64, usize, Vec<u32>)> = None;
        let mut rng = Rng::new(lp.sites.len() as u64);
        let most = lp.held + lp.donors.len() as u64;
        // A MIP's plan is whole already: one rounding keeps it.
        let tries = if how.whole { 1 } else { ROUNDINGS };
        for k in 0..tries {
            let mut order = fractions.clone();
            if k > 0 {
                for entry in &mut order {
                    entry.0 += 0.5 * rng.unit();
                }
            }
            order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let placed = self.round(window, &lp.sites, &value, &order, lp.held, most);
            if placed < lp.held {
                continue;
            }
            let extra = (placed - lp.held) as usize;
            let after = window.iter().map(|&d| self.deviation(d).abs()).sum::<f64>()
                - lp.donors[..extra].iter().map(|g| g.0).sum::<f64>();
            if best.as_ref().is_none_or(|(least, ..)| after < *least) {
                let places = lp.sites.iter().map(|&s| self.plan.places[s]).collect();
                best = Some((after, extra, places));
            }
        }
        let (places, extra) = match best {
            Some((after, extra, places)) if after < lp.current - 1e-6 * lp.current.max(1.0) => {
                (places, extra)
            }
            _ => (before, 0),
        };
        for (&s, &n) in lp.sites.iter().zip(&places) {
            self.set(s, n);
        }
        for &(_, d) in &lp.donors[..extra] {
            self.take_one(d as usize);
        }
    }

    /// One rounding of the window's LP `value`s: every site at its value rounded down (0
    /// below its minimum), then a place more at the sites of `order` where it fits, then
    /// places where they fit up to `held` and on, while a district is a place below its
    /// share, up to `most`. Returns the window's places.
    fn round(
        &mut self,
        window: &[usize],
        sites: &[usize],
        value: &impl Fn(usize) -> f64,
        order: &[(f64, usize)],
        held: u64,
        most: u64,
    ) -> u64 {
        for &s in sites {
            let down = (value(s) + 1e-7).floor().max(0.0) as u32;
            let least = self.instance.sites[s].min_places;
            self.set(s, if down < least { 0 } else { down });
        }
        let mut placed: u64 = sites.iter().map(|&s| u64::from(self.plan.places[s])).sum();
        for &(_, s) in order {
            let d = self.prepared.site_district[s].expect("window sites lie in districts");
            let d = d as usize;
            let (room, _, wanted) = self.room_at(s, d);
            let gains = placed < held || self.deviation(d) <= -1.0;
            if room >= wanted && gains && placed + wanted <= most {
                self.set(s, self.plan.places[s] + wanted as u32);
                placed += wanted;
            }
        }
        while placed < most {
            let Some((s, n)) = self.next_place(window, placed < held, most - placed) else {
                break;
            };
            self.set(s, self.plan.places[s] + n as u32);
            placed += n;
        }
        placed
    }

    /// The next place of the fill within `window`: in the district furthest below its share
    /// (with `must`; otherwise only in districts a whole place below it), at its site whose
    /// fullest ball has most room left, as many places as the site's minimum asks (at most
    /// `most`).
    fn next_place(&self, window: &[usize], must: bool, most: u64) -> Option<(usize, u64)> {
        let mut best: Option<(f64, u64, usize, u64)> = None;
        for &d in window {
            let below = -self.deviation(d);
            if (!must && below < 1.0) || best.is_some_and(|(b, ..)| b > below) {
                continue;
            }
            for &s in &self.sites_of[d] {
                let s = s as usize;
                let (room, slack, wanted) = self.room_at(s, d);
                if room < wanted || wanted > most {
                    continue;
                }
                let better =
                    best.is_none_or(|(b, most, ..)| below > b || (below == b && slack > most));
                if better {
                    best = Some((below, slack, s, wanted));
                }
            }
        }
        best.map(|(_, _, s, n)| (s, n))
    }
}
