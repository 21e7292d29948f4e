//! The integration tests: one binary, one module per tool (STYLE.md).

mod util;

mod blame;
mod bus;
mod docs;
mod explain;
mod flags;
mod gate;
mod githttp;
mod house;
mod jira;
mod maintenance;
mod messages;
mod output;
mod progress;
mod proxy;
mod qcondition;
mod qplan;
mod qpull;
mod qsnap;
mod qwatch;
mod qwhatif;
mod readme;
mod remote;
mod replay;
mod report;
mod scenarios;
mod serve;
mod soak;
mod solve;
mod systemd;
mod watch_status;
mod whatif_bus;
mod workbook;
