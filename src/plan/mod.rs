//! The qplan engine: from the v1 input streams to supply, demand, shortages
//! and dev-complete dates (SPEC sections 3–5).
//!
//! - [`amount`]: exact amounts of person-weeks;
//! - [`arena`]: item text and amounts in two buffers per plan;
//! - [`fields`]: how each input field is read (dates, estimates, triage…),
//!   a part of the rule book ([`crate::rules`]) kept reachable here;
//! - [`input`]: the input model (params, staff, work items) qplan computes
//!   from, as the rule book reads it;
//! - [`engine`]: the computation, track by track;
//! - [`schedule`]: the day-by-day dev-complete schedule;
//! - [`results`]: the results model and the v1 output streams;
//! - [`render`]: the human formats (text, JSON, CSV);
//! - [`html`]: the HTML report with its charts;
//! - [`trend`]: the stored versions of the results, summed up for the
//!   report's trend, and their provenance.

pub mod amount;
pub mod arena;
pub mod engine;
pub mod html;
pub mod input;
pub mod render;
pub mod results;
pub mod schedule;
pub mod trend;

pub use crate::rules::fields;

pub use engine::compute;
pub use input::{Input, Loaded};
pub use results::Results;

/// The longest plan supported, in days (ten years), so that a typo in the
/// end date is an error rather than gigabytes of calendar.
pub const MAX_DAYS: i64 = 3660;

#[cfg(test)]
mod tests;
