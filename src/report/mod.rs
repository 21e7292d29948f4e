//! Results shown: text, JSON and CSV, the HTML report, the trend over the
//! stored versions, and `qplan blame`. May use: plan, model, rules (to read
//! a results stream back), snap (the store's history), stream, cli, error;
//! never web or whatif.
//!
//! - [`render`]: the human formats (text, JSON, CSV);
//! - [`html`]: the HTML report with its charts;
//! - [`stored`]: a results stream read back, to render without
//!   recomputing;
//! - [`trend`]: the stored versions of the results, summed up for the
//!   report's trend, and their provenance;
//! - [`blame`]: the versions of an app's results where one item's
//!   dev-complete date or shortage changed, and the input rows behind each
//!   change, found through provenance (`qplan blame`); a stored result is
//!   read, never recomputed.

pub mod blame;
pub mod html;
pub mod render;
pub mod stored;
pub mod trend;
