//! The Lambda package's in-process tests, one binary: the function's `Handler` driven without
//! a network, its configuration from `LocalSource` and its deliveries to a recording sink
//! (`harness`). Nothing outside Cargo is needed to run them.
//!
//! * [`contract`]: SPEC section 4, status by status, through Function URL events;
//! * [`hostile`]: hostile input (proptest properties, size and nesting tables, constant-time
//!   credentials, the push URL scheme, lambda_http's panics).
//!
//! The over-HTTP half of the hostile suite and everything that runs the built function is the
//! `e2e` binary (`tests/e2e`). Both share `tests/support`.
//!
//! Run: `cargo nextest run -p harbor-flashduty --test handler` (part of `make unit`).

/// The fixture expectations table of the core suite (dry-run report shapes, per row).
#[path = "../../core/tests/core/expectations.rs"]
#[allow(dead_code)]
mod expectations;
#[path = "../support/mod.rs"]
mod support;

mod contract;
mod harness;
mod hostile;
