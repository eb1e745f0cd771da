//! Progress of long steps (reading layers, indexing), reported to whoever shows it: the
//! command line draws bars on a terminal; the library itself stays silent.

/// Receives progress; implementations must be cheap, `advance` runs on every core.
pub trait Progress: Sync {
    /// A new step with `total` items to go through (`None` when unknown).
    fn start(&self, message: &str, total: Option<u64>);
    /// `n` more items of the current step are done.
    fn advance(&self, n: u64);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _message: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
}
