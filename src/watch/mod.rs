//! qwatch's engine: doorbell, timers, runs, state.
//! May use: bus, snap, error; never plan (it runs commands, it knows no plan).
//!
//! `qwatch`'s engine: run a command whenever a watched resource gets a new
//! head, so that the stages chain themselves (SPEC sections 1 and 9).
//!
//! - [`source`]: where heads come from (the truth) and what says they may
//!   have changed (the doorbell): a local store, watched through
//!   [`crate::snap::refwatch`] (inotify on its refs, no polling);
//! - [`bus`]: the same from `qsnap serve`'s events and HEADS;
//! - [`runner`]: the loop, the policies (`queue`, `restart`, `drop`,
//!   debounce, timer), the commands in their process groups, signals;
//! - [`state`]: the checkpoint, what each rule has processed;
//! - [`status`]: what each rule last did and when (`qwatch --status`);
//! - [`config`]: rules from the command line or a chain file;
//! - [`duration`]: `15m`, `500ms` and the like.

pub mod bus;
pub mod config;
pub mod duration;
pub mod runner;
pub mod source;
pub mod state;
pub mod status;

pub use bus::BusSource;
pub use config::{OnBusy, RuleSpec};
pub use source::{Heads, RepoSource, Source};
