//! A district as the separable model sees it.

/// The order of a district's places for the stages with a number per place (see
/// `prepare::SiteKey`): compared component by component.
pub type Key = [f64; 2];

/// One district of the separable model.
#[derive(Debug, Clone)]
pub struct SeparableDistrict {
    /// Most new places the district can take (site room, share cap).
    pub cap: u64,
    /// Target minus existing places: the number of new places that would hit the target.
    pub kink: f64,
    /// The fair share t_d itself (stage F divides the squared deficit by it).
    pub share: f64,
    /// Blocks of new places in the order they fill (ascending key): (key, places).
    pub blocks: Vec<(Key, u64)>,
}
