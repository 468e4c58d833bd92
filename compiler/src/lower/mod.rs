//! Lowering: checked market → numeric forms the runtime consumes.

mod instance;
pub mod milp;
pub mod origins;
pub mod plan;
pub mod sample;

pub use instance::*;
pub use origins::Origins;
