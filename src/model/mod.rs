//! The plan's data: params, holidays, staff and work items, amounts, the calendar.
//! May use: error only (the ground floor: every other room may use it).
//!
//! - [`input`]: the input qplan computes from (params, staff, work items,
//!   names given small numbers);
//! - [`amount`]: exact amounts of person-weeks;
//! - [`arena`]: item text and amounts in two buffers per plan;
//! - [`triage`]: the five triage levels;
//! - [`calendar`]: the plan's days and workdays.
//!
//! The rule book (`rules`) reads streams into this model; the engine
//! (`plan`) computes from it.

pub mod amount;
pub mod arena;
pub mod calendar;
pub mod input;
pub mod triage;

pub use amount::Amount;
pub use arena::{Arena, Span};
pub use calendar::{Calendar, MAX_DAYS};
pub use input::{Input, Names, Params, Person, WorkItem};
pub use triage::Triage;

/// The headers of the four v1 input sections (SPEC section 3).
pub const PARAMS: &str = "qplan params v1";
pub const HOLIDAYS: &str = "qplan holidays v1";
pub const STAFF: &str = "qplan staff v1";
pub const WORK: &str = "qplan work v1";

/// The name of the track that holds all staff and all work.
pub const ALL: &str = "All";
