//! The test support shared by the package's two test binaries, `tests/e2e` (the built function,
//! over HTTP and `cargo lambda invoke`) and `tests/handler` (the handler in-process); each
//! includes this tree with `#[path = "../support/mod.rs"] mod support;`.
//!
//! The end-to-end tests run the real, built `harbor-flashduty` binary under the Lambda runtime
//! emulator of `cargo lambda watch`, in front of an in-process Flashduty stand-in and (for the
//! SSM tests) a `moto_server` acting as SSM Parameter Store. Every test starts its own servers on
//! free loopback ports and every child process is killed by a `Drop` guard, also when the test
//! panics, because `cargo nextest` runs the tests as parallel processes.
//!
//! * [`flashduty`]: the Flashduty stand-in (validates like the real endpoint, records, can fail).
//! * [`function`]: the function under test behind its local Function URL.
//! * [`moto`]: a local SSM server and a client to put parameters into it.
//! * [`process`]: child-process guards, tool lookup, free ports, scratch directories.
//! * [`fixtures`]: Harbor / MSR 3 payload fixtures (the one definition of "every fixture", the
//!   core suite's) and the secrets a test uses.
//! * [`event`]: Lambda Function URL request events (`aws_lambda_events`), for `cargo lambda
//!   invoke` and for the in-process handler.
//! * [`hostile`]: the secrets, credentials and generated inputs of the hostile suite.
//! * [`capture`]: per test, the secrets it used and everything the function printed and
//!   answered, under `target/e2e-capture/` for `scripts/scan_secrets.py`.
//! * [`proxy`]: a loopback TCP proxy that can cut, stall or answer for the server behind it.
//! * [`tls`]: a TLS front (the test CA's certificate for 127.0.0.1) for the stand-ins.
//! * [`report`]: figures for `target/reliability/*.json` (`scripts/reliability_report.py`).

#![allow(dead_code)]

pub mod capture;
pub mod event;
pub mod fixtures;
pub mod flashduty;
pub mod function;
pub mod hostile;
pub mod moto;
pub mod process;
pub mod proxy;
pub mod report;
pub mod tls;

// Not every test file uses every re-export.
#[allow(unused_imports)]
pub use fixtures::Secrets;
#[allow(unused_imports)]
pub use flashduty::{Behaviour, FlashdutyStandIn};
#[allow(unused_imports)]
pub use function::{Function, Reply};
#[allow(unused_imports)]
pub use moto::Moto;

/// A `reqwest` client builder for the harness. The crate's reqwest has no default crypto
/// provider (the function hands it a complete TLS configuration), so the harness does the same.
pub fn http_client() -> reqwest::ClientBuilder {
    let tls = harbor_flashduty::transport::tls_config(None).expect("the TLS configuration");
    reqwest::Client::builder().tls_backend_preconfigured(tls)
}
