//! The snapshot store: put, get, log, diff, trace, verify, in a bare git repository.
//! May use: stream, sources (redaction of remote URLs), error; never bus, plan or whatif.
//!
//! Every version of every resource (SPEC section 7), with provenance in
//! commit trailers.
//!
//! - [`name`]: resource names, checked before the repository is touched;
//! - [`store`]: opening, creating, the locked put;
//! - [`get`](mod@get): a stored version written out, its provenance first;
//! - [`remote`]: push, pull and clone, through the git command;
//! - [`lock`]: the store's locks, and what a killed put leaves behind;
//! - [`check`]: "same data" despite new fetch sections, and the record of
//!   the last check;
//! - [`trailer`]: the commits' trailers: what a commit says about itself;
//! - [`history`]: revisions and times, the version of a resource at one;
//! - [`newest`]: where each resource's newest version was put, kept beside
//!   the history so that reading it walks no history;
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
//!   store's lock;
//! - [`blob`]: a stored version's bytes read with one inflate (the store's
//!   own reader checks a loose object, then libgit2 inflates it again);
//! - [`daemon`]: the bounds on libgit2's memory every long-running process
//!   sets at its start;
//! - [`replay`]: every version of a resource run again through a command,
//!   kept on a side branch (`qsnap replay`);
//! - [`refwatch`]: waiting for the refs to change, through inotify (what
//!   qwatch, the page and the announcer of the bus wait on instead of
//!   polling).

pub mod auto;
pub mod blob;
pub mod branch;
pub mod check;
pub mod daemon;
pub mod diff;
pub mod get;
pub mod history;
pub mod lock;
pub mod maintain;
pub mod name;
pub mod newest;
pub mod objects;
pub mod refwatch;
pub mod remote;
pub mod replay;
pub mod store;
pub mod trailer;
pub mod verify;

pub use history::{At, Provenance, Version};
pub use name::Resource;
pub use store::{Put, Store};
