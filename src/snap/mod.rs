//! The snapshot store of SPEC section 7: every version of every resource in
//! a bare git repository, with provenance in commit trailers.
//!
//! - [`name`]: resource names, checked before the repository is touched;
//! - [`store`]: opening, creating, the locked put;
//! - [`remote`]: push, pull and clone, through the git command;
//! - [`lock`]: the store's locks, and what a killed put leaves behind;
//! - [`check`]: "same data" despite new fetch sections, and the record of
//!   the last check;
//! - [`history`]: trailers, revisions and times, versions and provenance;
//! - [`objects`]: objects checked before libgit2 reads them (a truncated one
//!   made libgit2 loop forever);
//! - [`verify`]: is every version readable, every provenance commit here?
//!   (and `--repair`: heads moved back to their newest intact commit);
//! - [`maintain`]: packing and pruning under the store's lock, with a
//!   grace period (what `git gc` does, made safe beside live puts);
//! - [`auto`]: that maintenance run by puts when loose objects pile up
//!   (the store's `gc.auto`);
//! - [`diff`]: the section-aware diff of two versions;
//! - [`branch`]: side branches beside main (what-if scenarios), under the
//!   store's lock.

pub mod auto;
pub mod branch;
pub mod check;
pub mod diff;
pub mod history;
pub mod lock;
pub mod maintain;
pub mod name;
pub mod objects;
pub mod remote;
pub mod store;
pub mod verify;

pub use history::{At, Provenance, Version};
pub use name::Resource;
pub use store::{Put, Store};
