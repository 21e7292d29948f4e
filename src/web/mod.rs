//! The page server of `qwhatif serve --http`: the plan and its what-ifs as
//! a local web page. May use: whatif, report, snap, bus (the address
//! checks), cli, error; nothing uses it but the commands.
//!
//! - [`page`]: the HTTP server, its routes and its pages.

pub mod page;

pub use page::{run, Options, PublicUrl};
