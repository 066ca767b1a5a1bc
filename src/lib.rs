//! harbor-flashduty: Harbor (and MSR 3) registry webhooks in, Flashduty standard alerts out.
//!
//! This package is the Lambda's edges around the pure core crate, `harbor-flashduty-core`
//! (`core/`), which parses payloads, applies rules and builds alerts without any I/O:
//!
//! * [`config`] loads settings from SSM or the environment;
//! * [`handler`] is the Function URL's HTTP contract; [`report`] its success body;
//! * [`delivery`] sends a request's alerts and says what happened to each event;
//! * [`flashduty`] is the Flashduty client, over the one HTTPS client of [`transport`] (which
//!   also carries the SSM client);
//! * [`observe`] turns each event's outcome into a log line and a metric ([`metrics`]);
//!   [`logging`] sets log output up.
//!
//! `main.rs` only wires them.

pub mod config;
pub mod delivery;
pub mod flashduty;
pub mod handler;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod report;
pub mod transport;
