//! The page server of `qwhatif serve --http`: the plan and its what-ifs as
//! a local web page. May use: whatif, report, snap, bus (the address
//! checks), watch (following the store), cli, error; nothing uses it but
//! the commands.
//!
//! - [`page`]: the routes and the pages;
//! - [`live`]: the HTTP server (connections, deadlines, limits) and the
//!   event stream that pushes new results to the open pages, fed by a
//!   thread that follows the store.

pub mod live;
pub mod page;
pub mod solve;

pub use page::{run, Options, PublicUrl, SnapBus};
