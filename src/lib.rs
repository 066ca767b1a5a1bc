//! harbor-flashduty: Harbor (and MSR 3) registry webhooks in, Flashduty standard alerts out.
//!
//! The crate is a pure core wrapped in thin edges:
//!
//! * core, no I/O and nothing of Lambda: [`payload`] recognises and parses webhook bodies into
//!   the canonical [`event::Event`]; [`rules`] grades and filters events; [`alert`] builds the
//!   Flashduty alert; [`convert`] runs the three for one request body.
//! * edges: [`config`] loads settings from SSM or the environment, [`flashduty`] delivers
//!   alerts over the one HTTPS client of [`transport`] (which also carries the SSM client),
//!   [`handler`] is the Function URL's HTTP contract. `main.rs` only wires them.

pub mod alert;
pub mod config;
pub mod convert;
pub mod event;
pub mod flashduty;
pub mod handler;
pub mod logging;
pub mod metrics;
pub mod payload;
pub mod rules;
pub mod severity;
pub mod transport;
