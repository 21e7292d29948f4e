//! qplan toolkit: small Unix commands for quarterly planning data.
//!
//! The library holds everything; the six binaries under `src/bin/` only hand
//! over to [`cli::main`]. Modules follow what the code is about:
//!
//! - [`stream`]: the stacked-stream format every tool reads and writes;
//! - [`plan`]: the qplan engine (inputs, supply, demand, shortages, schedule,
//!   results and their renderings);
//! - [`rules`]: the rule book of the v1 inputs, one reader for qplan and
//!   the gate;
//! - [`condition`]: raw team sheets into v1 inputs, and the gate (`qcondition`);
//! - [`snap`]: the snapshot store (a git repository) behind `qsnap`;
//! - [`history`]: questions over many stored versions (`qplan blame`);
//! - [`bus`]: `qsnap serve` and its client (nng), events of new versions;
//! - [`sources`]: fetching sources of truth (`qpull`);
//! - [`watch`]: running commands on new snapshots (`qwatch`);
//! - [`cmd`]: one module per command, each an `Args` and a `run`;
//! - [`cli`]: what every command shares (inputs, outputs, errors, exit codes);
//! - [`whatif`]: hypothetical changes to a plan and what they move (`qwhatif`);
//! - [`docs`]: man pages and shell completions generated from the commands;
//! - [`daemon`]: the memory bounds every long-running process sets at its start.

pub mod bus;
pub mod cli;
pub mod cmd;
pub mod condition;
pub mod daemon;
pub mod docs;
pub mod error;
pub mod history;
pub mod plan;
pub mod rules;
pub mod snap;
pub mod sources;
pub mod stream;
pub mod watch;
pub mod whatif;

pub use error::{Error, Location, Result};
