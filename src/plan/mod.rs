//! The engine: the model in, the results out (SPEC sections 4 and 5).
//! May use: model, stream, error; never rules, report, snap, cli or whatif.
//!
//! - [`engine`]: the computation, track by track;
//! - [`schedule`]: the day-by-day dev-complete schedule;
//! - [`results`]: the results model and the v1 output streams.
//!
//! The input it computes from is [`crate::model`]; the rule book
//! ([`crate::rules`]) reads it from streams, and [`crate::report`] shows the
//! results.

pub mod engine;
pub mod results;
pub mod schedule;

pub use engine::compute;
pub use results::Results;

pub use crate::model::{Input, MAX_DAYS};

#[cfg(test)]
mod tests;
