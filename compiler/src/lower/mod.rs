//! Lowering: checked market → numeric forms the runtime consumes.

mod instance;
pub mod sample;

pub use instance::*;
