//! qplan toolkit: small Unix commands for quarterly planning data.
//!
//! The library holds everything; the six binaries under `src/bin/` only hand
//! over to [`cli::main`]. Modules follow what the code is about:
//!
//! - [`stream`]: the stacked-stream format every tool reads and writes;
//! - [`model`]: the plan's data (params, staff, work, amounts, calendar);
//! - [`rules`]: the rule book of the v1 inputs, read into the model; one
//!   reader for qplan and the gate;
//! - [`plan`]: the qplan engine (supply, demand, shortages, schedule,
//!   results): the model in, results out;
//! - [`report`]: results shown (text, JSON, CSV, HTML, the trend over
//!   stored versions, `qplan blame`);
//! - [`condition`]: raw team sheets into v1 inputs, and the gate (`qcondition`);
//! - [`snap`]: the snapshot store (a git repository) behind `qsnap`;
//! - [`bus`]: `qsnap serve` and its client (nng), events of new versions;
//! - [`sources`]: fetching sources of truth (`qpull`);
//! - [`watch`]: running commands on new snapshots (`qwatch`);
//! - [`cmd`]: one module per command, each an `Args` and a `run`;
//! - [`cli`]: what every command shares (inputs, outputs, errors, exit codes);
//! - [`whatif`]: hypothetical changes to a plan and what they move (`qwhatif`);
//! - [`web`]: the page server of `qwhatif serve --http`;
//! - [`docs`]: man pages and shell completions generated from the commands.
//!
//! The arrows between the rooms, and the ones that must never be, are
//! listed in README.md (Architecture) and checked by `tests/house.rs`.

pub mod bus;
pub mod cli;
pub mod cmd;
pub mod condition;
pub mod docs;
pub mod error;
pub mod model;
pub mod plan;
pub mod report;
pub mod rules;
pub mod snap;
pub mod sources;
pub mod stream;
pub mod watch;
pub mod web;
pub mod whatif;

pub use error::{Error, Location, Result};
