//! A MIP start: the program's columns at a point the exact runtime computed, so the solver
//! holds a feasible incumbent from its first node. The solver still proves optimality (or
//! reports its gap); the start only spares it the search for a first feasible point.

use prillm_compiler::lower::milp::{ColumnMeaning, GridEncoding, LinearProgram};
use prillm_compiler::lower::Instance;

use crate::equilibrium::Equilibrium;

/// Column values at `prices` (decided ones on their grids) with the equilibrium `eq` there,
/// or `None` when a decided price is off its grid.
pub(super) fn values(
    program: &LinearProgram,
    inst: &Instance,
    prices: &[f64],
    eq: &Equilibrium,
) -> Option<Vec<f64>> {
    let m = inst.n_providers();
    let unit = program.flow_unit;
    let mut index = vec![0usize; m];
    for g in &program.grids {
        let k = ((prices[g.provider] - g.lo) / g.step).round();
        if !(0.0..g.points as f64).contains(&k)
            || (g.point(k as usize) - prices[g.provider]).abs() > 1e-9 * g.step
        {
            return None;
        }
        index[g.provider] = k as usize;
    }
    let encoding = |j: usize| {
        program
            .grids
            .iter()
            .find(|g| g.provider == j)
            .map(|g| g.encoding)
    };
    // λ_i: the user's smallest marginal cost (its cost at every provider it uses).
    let marginal = |i: usize, j: usize| {
        let g = if inst.users[i].chooser {
            0.0
        } else {
            inst.congestion_weight[i]
        };
        prices[j]
            + inst.static_cost(i, j)
            + g * (eq.loads[j] + eq.flows.get(i, j)) / inst.capacity[j]
    };
    let values = program
        .columns
        .iter()
        .map(|c| match c.meaning {
            ColumnMeaning::Flow { user, provider } => eq.flows.get(user, provider) / unit,
            ColumnMeaning::Active { user, provider } => {
                f64::from(u8::from(eq.flows.get(user, provider) > 0.0))
            }
            ColumnMeaning::Multiplier { user } => (0..m)
                .filter(|&j| eq.flows.get(user, j) > 0.0)
                .map(|j| marginal(user, j))
                .fold(f64::INFINITY, f64::min),
            ColumnMeaning::Load { provider } => eq.loads[provider] / unit,
            ColumnMeaning::Price { provider } => prices[provider],
            ColumnMeaning::PricePoint { provider, point } => {
                f64::from(u8::from(index[provider] == point))
            }
            ColumnMeaning::PriceBit { provider, bit } => ((index[provider] >> bit) & 1) as f64,
            ColumnMeaning::RevenuePart { provider, part } => {
                let on = match encoding(provider) {
                    Some(GridEncoding::OneHot) => index[provider] == part,
                    _ => (index[provider] >> part) & 1 == 1,
                };
                if on {
                    eq.loads[provider] / unit
                } else {
                    0.0
                }
            }
        })
        .map(|v: f64| v.clamp(-1e300, 1e300))
        .collect::<Vec<f64>>();
    // Clamp into the column bounds: rounding can put a flow 1 ulp past its bound.
    Some(
        values
            .iter()
            .zip(&program.columns)
            .map(|(&v, c)| v.max(c.lo).min(c.hi))
            .collect(),
    )
}
