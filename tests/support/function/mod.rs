//! The function under test, running as built, behind its local Function URL.
//!
//! # Mechanism: `cargo lambda watch --only-lambda-apis` + the test-built binary
//!
//! Each [`Function`] starts its own Lambda emulator,
//! `cargo-lambda lambda watch --only-lambda-apis --ignore-changes -A 127.0.0.1 -P <free port>`,
//! and then spawns the binary Cargo built for this test run (`CARGO_BIN_EXE_harbor-flashduty`)
//! itself, with `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:<port>/.rt/harbor-flashduty`,
//! `AWS_LAMBDA_FUNCTION_NAME=harbor-flashduty` and a cleared environment plus exactly the
//! variables the test asks for. Requests then go to
//! `http://127.0.0.1:<port>/lambda-url/harbor-flashduty/`, where the emulator turns them into
//! Function URL (API Gateway v2, payload 2.0) events, as `cargo lambda watch` does for `make demo`.
//!
//! Why not plain `cargo lambda watch` (which runs `cargo run --bin harbor-flashduty` on the
//! first request)? Measured on a throwaway lambda_http crate:
//! * `cargo run` does not run the binary the tests were built against: a test build unifies the
//!   dev-dependencies' features (tokio `full`, ...) into the package, a plain build does not, so
//!   `cargo run` relinks `target/debug/harbor-flashduty` (its checksum flips between the two
//!   builds), under the feet of tests running in parallel, and it takes Cargo's build lock,
//!   which concurrent builds hold for minutes. It also rebuilds on every source change.
//! * First request with everything already built: ~0.27 s; with the own-binary mechanism the
//!   whole start (emulator listening + function answering) takes 50-120 ms, also with two
//!   instances started at the same time.
//!
//! Findings that shape the code:
//! * In `--only-lambda-apis` mode the emulator's default function is `_`
//!   (`AWS_LAMBDA_RUNTIME_API=.../.rt`). The runtime API path names the function:
//!   `.../.rt/harbor-flashduty` plus `AWS_LAMBDA_FUNCTION_NAME=harbor-flashduty` serves
//!   `/lambda-url/harbor-flashduty/` (what plain `watch` sets for its child, read from
//!   `/proc/<pid>/environ`).
//! * Before the function polls the runtime API, requests to its URL are queued (the client just
//!   waits); once it polls they are answered. So readiness = any HTTP answer to a `GET` (our
//!   function answers `405`), polled with a short timeout while checking that the binary is alive.
//! * The emulator runs `cargo metadata` on a manifest and scans its working directory: started
//!   from `/` it took 7-25 s to listen, from a small directory ~50-100 ms. It is started in a
//!   per-test scratch directory holding a stub manifest, so it touches nothing of the project.
//! * It is spawned as `cargo-lambda` (not `cargo lambda`, which would leave `cargo-lambda` as a
//!   grandchild) in its own process group; both processes are killed by group on drop.
//! * Bodies of 1.1 and 2.1 MB pass through the emulator unchanged (the 413 test needs that).
//!
//! `HARBOR_FLASHDUTY_E2E_BIN=<path>` runs another build of the function (e.g. a release build)
//! through the same tests.
//!
//! [`Function::start_scaled`] starts several instances of the function against one emulator, as
//! Lambda scales out: the emulator hands each invocation to whichever instance polls next
//! (checked by hand: 30 concurrent requests over 3 instances, each served some, all answered).
//!
//! Everything the function answers and prints is also kept for the secrets scan
//! (`tests/support/capture.rs`), with the secret variables of its environment.
//!
//! [`reply`]: the answer as Harbor sees it; [`spawn`]: starting the emulator and the binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::capture;
use super::fixtures::harbor_request;
use super::process::{ChildGuard, ScratchDir, free_port, require_tool, wait_until_listening};

mod reply;
mod spawn;

pub use reply::Reply;
use spawn::{function_binary, owned, spawn_emulator, spawn_function, write_stub_manifest};

/// The function name of the Lambda binary and of its local Function URL (SPEC §2).
pub const FUNCTION_NAME: &str = "harbor-flashduty";
/// Overrides the binary under test.
pub const BIN_OVERRIDE_VAR: &str = "HARBOR_FLASHDUTY_E2E_BIN";

const EMULATOR_TIMEOUT: Duration = Duration::from_secs(20);
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;
/// Far above the function's 2.5 s budget, so a slow answer is measured, not cut off.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A running function. Dropping it kills the function and the emulator.
pub struct Function {
    port: u16,
    http: reqwest::Client,
    function: ChildGuard,
    /// Instances beyond the first ([`Function::start_scaled`]).
    more: Vec<ChildGuard>,
    emulator: ChildGuard,
    scratch: ScratchDir,
    /// This test's capture directory (`tests/support/capture.rs`).
    capture: PathBuf,
}

impl Function {
    /// Starts the emulator and the function with `env` (on top of the fixed Lambda and AWS
    /// variables below) and returns once the function answers on its URL.
    ///
    /// Always set: `AWS_REGION=us-east-1`, `AWS_ACCESS_KEY_ID=test`, `AWS_SECRET_ACCESS_KEY=test`,
    /// `AWS_EC2_METADATA_DISABLED=true`, `RUST_LOG=info`; `env` may override them. Nothing else
    /// of the test's own environment reaches the function (no stray `SSM_PREFIX` or profile).
    pub async fn start(env: &[(&str, &str)]) -> Function {
        Function::start_scaled(env, 1).await
    }

    /// Like [`Function::start`], with `instances` (at least 1) copies of the function polling
    /// the same emulator, as Lambda runs concurrent requests on separate instances.
    pub async fn start_scaled(env: &[(&str, &str)], instances: usize) -> Function {
        assert!(
            (1..=16).contains(&instances),
            "1 to 16 instances, not {instances}"
        );
        let capture = capture::test_dir();
        capture::secret_env(&capture, env);
        let cargo_lambda = require_tool("cargo-lambda");
        let binary = function_binary();
        let scratch = ScratchDir::new("function");
        write_stub_manifest(scratch.path());
        let mut failures = Vec::new();
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let mut emulator = spawn_emulator(&cargo_lambda, port, scratch.path(), attempt);
            if let Err(why) = wait_until_listening(port, EMULATOR_TIMEOUT, &mut emulator).await {
                failures.push(format!("{why}\n{}", emulator.output()));
                continue;
            }
            let function = spawn_function(&binary, port, env, scratch.path(), 1);
            let more = (2..=instances)
                .map(|n| spawn_function(&binary, port, env, scratch.path(), n))
                .collect();
            let http = super::http_client()
                .no_proxy()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("building an HTTP client");
            let mut started = Function {
                port,
                http,
                function,
                more,
                emulator,
                scratch,
                capture,
            };
            started.wait_until_answering().await;
            return started;
        }
        panic!(
            "the Lambda emulator (cargo-lambda watch) did not start after {PORT_ATTEMPTS} attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    /// `http://127.0.0.1:<port>/lambda-url/harbor-flashduty/`: what is pasted into Harbor.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{FUNCTION_NAME}/", self.port)
    }

    /// The emulator's port, for `cargo lambda invoke --invoke-port`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the function printed so far (stdout and stderr); with several instances,
    /// each instance's output in turn.
    pub fn logs(&self) -> String {
        let mut logs = self.function.output();
        for instance in &self.more {
            logs.push_str(&instance.output());
        }
        logs
    }

    /// How many instances serve the URL.
    pub fn instances(&self) -> usize {
        1 + self.more.len()
    }

    /// How many instances are still running (an instance that panics with `panic = "abort"`
    /// is gone).
    pub fn instances_alive(&mut self) -> usize {
        let mut alive = usize::from(self.function.exited().is_none());
        for instance in &mut self.more {
            alive += usize::from(instance.exited().is_none());
        }
        alive
    }

    /// This test's capture directory, for answers a test receives by other means
    /// (`capture::response`).
    pub fn capture_dir(&self) -> &Path {
        &self.capture
    }

    /// What the emulator printed (not the function's output).
    pub fn emulator_logs(&self) -> String {
        self.emulator.output()
    }

    /// `POST` to the Function URL with exactly these headers.
    pub async fn post(&self, body: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> Reply {
        self.send("POST", None, body.into(), owned(headers)).await
    }

    /// `POST` to the Function URL with a query string (`token=...`).
    pub async fn post_with_query(
        &self,
        query: &str,
        body: impl Into<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send("POST", Some(query), body.into(), owned(headers))
            .await
    }

    /// `POST`s a fixture the way Harbor does: its content type, Go's user agent, and the
    /// `Authorization` value when given.
    pub async fn post_fixture(&self, rel: &str, authorization: Option<&str>) -> Reply {
        let (body, headers) = harbor_request(rel, authorization);
        self.send("POST", None, body, headers).await
    }

    /// Any request to the Function URL.
    pub async fn send(
        &self,
        method: &str,
        query: Option<&str>,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    ) -> Reply {
        let url = match query {
            Some(query) => format!("{}?{query}", self.url()),
            None => self.url(),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method.clone(), &url).body(body);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let sent_at = Instant::now();
        let response = request.send().await.unwrap_or_else(|e| {
            panic!(
                "{method} {url} got no HTTP answer: {e}\nfunction logs:\n{}",
                self.logs()
            )
        });
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                )
            })
            .collect();
        let bytes = response.bytes().await.unwrap_or_else(|e| {
            panic!(
                "reading the answer to {method} {url}: {e}\nfunction logs:\n{}",
                self.logs()
            )
        });
        let answered_at = Instant::now();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        capture::response(&self.capture, "url", status, &headers, &raw);
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            raw,
            elapsed: answered_at - sent_at,
            sent_at,
            answered_at,
        }
    }

    /// Invokes the function with a raw Lambda event through
    /// `cargo lambda invoke harbor-flashduty --data-file <event>` and returns what it answered
    /// (for a Function URL event: `{statusCode, headers, body, isBase64Encoded, ...}`).
    pub async fn invoke(&self, event: &Value) -> Value {
        let cargo_lambda = require_tool("cargo-lambda");
        let event_file = self
            .scratch
            .path()
            .join(format!("event-{}.json", super::process::random_hex(4)));
        std::fs::write(
            &event_file,
            serde_json::to_vec_pretty(event).expect("event JSON"),
        )
        .expect("writing the invoke event file");
        let mut command = tokio::process::Command::new(cargo_lambda);
        command
            .args(["lambda", "invoke", FUNCTION_NAME])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .arg("--data-file")
            .arg(&event_file)
            .args(["--output-format", "json"])
            .current_dir(self.scratch.path())
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("cargo lambda invoke did not finish within 60 s")
            .expect("running cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout);
        capture::response(
            &self.capture,
            "invoke",
            output.status.code().map_or(0, |c| c as u16),
            &[],
            &format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
        );
        assert!(
            output.status.success(),
            "cargo lambda invoke failed ({}):\nstdout: {stdout}\nstderr: {}\nfunction logs:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("cargo lambda invoke printed no JSON ({e}): {stdout}"))
    }

    /// Polls the URL with `GET` until the function answers anything; fails when it exits.
    async fn wait_until_answering(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let probe = super::http_client()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()
            .expect("building an HTTP client");
        loop {
            if probe.get(self.url()).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(status) = self.function.exited() {
                panic!(
                    "the function exited ({status}) before answering on {}\nfunction logs:\n{}\nemulator logs:\n{}",
                    self.url(),
                    self.logs(),
                    self.emulator_logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the function did not answer on {} within {READY_TIMEOUT:?}\nfunction logs:\n{}\nemulator logs:\n{}",
                self.url(),
                self.logs(),
                self.emulator_logs()
            );
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.function.kill();
        for instance in &mut self.more {
            instance.kill();
        }
        self.emulator.kill();
        capture::logs(
            &self.capture,
            &format!("function instance 1 on port {}", self.port),
            &self.function.output(),
        );
        for (n, instance) in self.more.iter().enumerate() {
            capture::logs(
                &self.capture,
                &format!("function instance {} on port {}", n + 2, self.port),
                &instance.output(),
            );
        }
        if std::thread::panicking() {
            let logs = self.logs();
            let tail: Vec<&str> = logs.lines().rev().take(80).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!(
                "e2e: last lines the function printed ({}):\n{}",
                self.function.log_path().display(),
                tail.join("\n")
            );
        }
    }
}
