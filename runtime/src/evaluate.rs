//! Fixed prices → equilibrium → what each provider and firm earns (`prillm simulate`).

use prillm_compiler::lower::Instance;
use serde::Serialize;

use crate::equilibrium::{solve, Equilibrium, Options};
use crate::error::RuntimeError;

#[derive(Clone, Debug, Serialize)]
pub struct ProviderOutcome {
    pub name: String,
    pub price: f64,
    /// mtok per period.
    pub load: f64,
    /// Load over all demand.
    pub share: f64,
    /// Load over capacity.
    pub congestion: f64,
    /// usd per period (price × load; prices are per mtok).
    pub revenue: f64,
    /// usd per period ((price − cost) × load).
    pub profit: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FirmOutcome {
    pub name: String,
    pub share: f64,
    pub revenue: f64,
    pub profit: f64,
}

/// An evaluation of fixed prices, with the equilibrium's certificate.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub providers: Vec<ProviderOutcome>,
    pub firms: Vec<FirmOutcome>,
    pub equilibrium: Equilibrium,
}

pub fn evaluate(inst: &Instance, prices: &[f64]) -> Result<Evaluation, RuntimeError> {
    let eq = solve(inst, prices, None, &Options::default())?;
    let total = inst.total_demand();
    let providers: Vec<ProviderOutcome> = (0..inst.n_providers())
        .map(|j| {
            let load = eq.loads[j];
            ProviderOutcome {
                name: inst.providers[j].name.clone(),
                price: prices[j],
                load,
                share: load / total,
                congestion: load / inst.capacity[j],
                revenue: prices[j] * load,
                profit: (prices[j] - inst.cost[j]) * load,
            }
        })
        .collect();
    let firms = inst
        .firms
        .iter()
        .map(|f| FirmOutcome {
            name: f.name.clone(),
            share: f.providers.iter().map(|&j| providers[j].share).sum(),
            revenue: f.providers.iter().map(|&j| providers[j].revenue).sum(),
            profit: f.providers.iter().map(|&j| providers[j].profit).sum(),
        })
        .collect();
    Ok(Evaluation {
        providers,
        firms,
        equilibrium: eq,
    })
}
