//! The core's tests, one binary: every fixture table-driven, alert keys, rules, properties.
//!
//! They link only `harbor-flashduty-core` (no AWS SDK, no HTTP stack), so
//! `cargo nextest run -p harbor-flashduty-core` builds fast. `expectations` is shared with the
//! end-to-end suite (`tests/e2e`), which checks the same table through the built function.

mod expectations;
mod support;

mod fixtures;
mod keys;
mod properties;
mod rules;
