//! History that answers "why did this move?": reading many stored versions
//! of a plan at once.
//!
//! - [`blame`]: the versions of an app's results where one item's
//!   dev-complete date or shortage changed, and the input rows behind each
//!   change, found through provenance (`qplan blame`);
//! - [`blob`]: a stored version's bytes read with one inflate (the store's
//!   own reader checks a loose object, then libgit2 inflates it again);
//! - [`progress`]: the progress bar of long jobs over history, on stderr
//!   when it is a terminal.
//!
//! This reads the store ([`crate::snap`]) and the v1 streams as text; the
//! plan engine ([`crate::plan`]) is not involved: a stored result is read,
//! never recomputed.

pub mod blame;
pub mod blob;
pub mod progress;
