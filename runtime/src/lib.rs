//! The runtime: lowered markets → decisions. Today: the users' equilibrium at given prices
//! (MODEL.md §2) with its KKT certificate, and the evaluation of fixed prices. Leader pricing,
//! best response among firms, the MILP and the network come with their issues.

pub mod bench;
pub mod calibrate;
pub mod equilibrium;
pub mod error;
pub mod evaluate;
pub mod explain;
mod kkt;
pub mod leader;
pub mod milp;
pub mod nash;
pub mod network;
pub mod synthetic;

pub use equilibrium::{solve, Equilibrium, Options};
pub use error::RuntimeError;
pub use evaluate::{evaluate, Evaluation};
