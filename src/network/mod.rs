//! Distances on foot: the street network as a graph, where sites and facilities join it,
//! and the walk from every site to the nearest facility of each kind (docs/model.md
//! "Distances on foot").
//!
//! - `graph`: nodes (vertices equal to 1 cm), edges (segments), connected parts, and an
//!   R-tree of the segments that finds where a point joins the network.
//! - `walks`: one search per facility kind from all its facilities at once, labelled with
//!   the facility it started from; a site then reads its walk from the two ends of its
//!   segment (and the facilities on that segment) in constant time, and the way itself is
//!   followed back for `routes.geojson`.
//!
//! The checker measures the same walks in its own, simpler way (`check::walk`); the two
//! meet only in the tests.

mod graph;
mod walks;

pub use graph::{Graph, Joint};
pub use walks::{Route, Walks};

#[cfg(test)]
mod tests;
