//! The solver's trace on stderr (`QUARTIER_TRACE`): where each stage spent its time and
//! what each route found. Below every room, so that none imports upwards for it.

/// Prints a line of the solver's trace on stderr when `QUARTIER_TRACE` is set.
pub(crate) fn trace(line: impl FnOnce() -> String) {
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!("{}", line());
    }
}
