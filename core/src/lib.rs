//! The pure core of harbor-flashduty: a webhook body in, the Flashduty alerts it calls for out.
//!
//! No I/O and nothing of Lambda: this crate's dependencies are serde, time and hashing only, so
//! the compiler (and `cargo tree`) keeps it pure. The Lambda package (`src/`) wraps it in thin
//! edges: configuration, the HTTP handler and the Flashduty client.
//!
//! * [`payload`] recognises a body's wire format and parses it into canonical [`event::Event`]s;
//! * [`rules`] grades and filters events;
//! * [`alert`] builds the Flashduty alert of an event;
//! * [`convert`] runs the three for one request body.

pub mod alert;
pub mod convert;
pub mod event;
pub mod payload;
pub mod rules;
pub mod severity;
