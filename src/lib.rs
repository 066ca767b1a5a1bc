//! harbor-flashduty: Harbor (and MSR 3) registry webhooks in, Flashduty standard alerts out.
//!
//! This package is the Lambda's edges around the pure core crate, `harbor-flashduty-core`
//! (`core/`), which parses payloads, applies rules and builds alerts without any I/O:
//!
//! * [`config`] loads settings from SSM or the environment;
//! * [`flashduty`] delivers alerts over the one HTTPS client of [`transport`] (which also
//!   carries the SSM client);
//! * [`handler`] is the Function URL's HTTP contract; [`report`] its success body;
//! * [`metrics`] and [`logging`] are what CloudWatch sees.
//!
//! `main.rs` only wires them.

pub mod config;
pub mod flashduty;
pub mod handler;
pub mod logging;
pub mod metrics;
pub mod report;
pub mod transport;
