//! Nested plans for demand levels inside each level's optimal box.

use std::collections::BinaryHeap;

use super::*;

/// Nested plans inside given boxes: level l's new places per district X^l within
/// `boxes[l]` (least, most), with Σ_d X^l_d = `placed[l]` and X^1 ≤ X^2 ≤ …; `None` when
/// there are none. Places enter level by level, earliest deadline first: a district's
/// j-th place is released at the first level from which every later box allows j places,
/// and is due at the first level whose box (or an earlier one) needs it. Scheduling such
/// unit jobs by earliest deadline finds a schedule whenever one exists; among places due
/// alike, those with the smaller key (then lower district) go first.
pub fn chain(
    districts: &[SeparableDistrict],
    boxes: &[Vec<(u64, u64)>],
    placed: &[u64],
) -> Option<Vec<Vec<u64>>> {
    let levels = boxes.len();
    let count = districts.len();
    // Least places by level l (prefix maximum) and most (suffix minimum).
    let mut least = vec![vec![0u64; count]; levels];
    let mut most = vec![vec![0u64; count]; levels];
    for d in 0..count {
        let mut running = 0;
        for l in 0..levels {
            running = running.max(boxes[l][d].0);
            least[l][d] = running;
        }
        let mut running = u64::MAX;
        for l in (0..levels).rev() {
            running = running.min(boxes[l][d].1);
            most[l][d] = running;
        }
        if (0..levels).any(|l| least[l][d] > most[l][d]) {
            return None;
        }
    }
    // The level by which place `j` (1-based) of district d is due: the first l ≥ from with
    // least[l][d] ≥ j, or `levels` (never).
    let due = |d: usize, j: u64, from: usize| {
        (from..levels).find(|&l| least[l][d] >= j).unwrap_or(levels)
    };
    let mut current = vec![0u64; count];
    let mut plans = Vec::with_capacity(levels);
    let mut before = 0u64;
    for l in 0..levels {
        let need = placed[l].checked_sub(before)?;
        before = placed[l];
        let mut must = 0u64;
        for d in 0..count {
            let short = least[l][d].saturating_sub(current[d]);
            current[d] += short;
            must += short;
        }
        let mut left = need.checked_sub(must)?;
        // (due level, key, district): a max-heap of reversed entries.
        let mut heap: BinaryHeap<(std::cmp::Reverse<usize>, Next)> = BinaryHeap::new();
        let mut cursors: Vec<Cursor> = districts
            .iter()
            .zip(&current)
            .map(|(district, &from)| Cursor::at(&district.blocks, from))
            .collect();
        let push = |heap: &mut BinaryHeap<(std::cmp::Reverse<usize>, Next)>,
                    cursor: &Cursor,
                    d: usize,
                    at: u64| {
            if at < most[l][d] {
                if let Some((key, _)) = cursor.next_run() {
                    heap.push((
                        std::cmp::Reverse(due(d, at + 1, l + 1)),
                        Next { key, district: d },
                    ));
                }
            }
        };
        for d in 0..count {
            push(&mut heap, &cursors[d], d, current[d]);
        }
        while left > 0 {
            let (std::cmp::Reverse(level_due), Next { district: d, .. }) = heap.pop()?;
            let (_, run) = cursors[d].next_run()?;
            // Take places of one due level at a time.
            let mut take = run.min(most[l][d] - current[d]).min(left);
            if level_due < levels {
                take = take.min(least[level_due][d] - current[d]);
            }
            current[d] += take;
            left -= take;
            cursors[d].advance(take);
            push(&mut heap, &cursors[d], d, current[d]);
        }
        plans.push(current.clone());
    }
    Some(plans)
}
