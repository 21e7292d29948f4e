//! The bus: protocol, the `qsnap serve` service, the client.
//! May use: snap, stream, cli (exit codes, signals), error; never cmd.
//!
//! The bus of SPEC section 9 (nng): `qsnap serve` answers requests about
//! the store and announces every new version, so the stages chain without
//! anyone polling.
//!
//! - [`proto`]: every message as a stacked stream, encoded and decoded;
//! - [`client`]: the client, [`Client`] (REQ: `heads`, `get`, `put`, `publish_error`)
//!   and [`Subscriber`] (SUB: events, heartbeats, failure reports), the API
//!   `qwatch` uses;
//! - [`server`]: `qsnap serve`, the REP answerer and the announcer.
//!
//! nng here carries no encryption: off loopback and ipc, the token only
//! keeps strangers from writing, it does not hide what is sent.

pub mod client;
pub mod proto;
pub mod server;

/// What a PUT did: a new commit, or the same data as the head (no commit).
pub use crate::snap::Put as PutOutcome;
pub use client::{new_request_id, Client, Subscriber, DEFAULT_PUB, DEFAULT_REP};
pub use proto::{Event, Heads, Message, Reply, Request};
