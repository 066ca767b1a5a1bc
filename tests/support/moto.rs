//! `moto_server` as a local SSM Parameter Store, and an SSM client to fill it.
//!
//! Each test gets its own server on a free port (bound to 127.0.0.1), so tests running in
//! parallel never see each other's parameters. [`Moto::stop`] kills it mid-test to simulate an
//! SSM outage; dropping the handle kills it in any case.

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use std::process::Command;
use std::time::{Duration, Instant};

use super::process::{ChildGuard, ScratchDir, free_port, require_tool};

/// How long moto may take to answer `/moto-api/` (it usually needs ~0.6 s; more under load).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts with a fresh port when the chosen one was taken in the meantime.
const PORT_ATTEMPTS: usize = 3;

pub struct Moto {
    server: ChildGuard,
    url: String,
    client: aws_sdk_ssm::Client,
    _scratch: ScratchDir,
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it answers.
    pub async fn start() -> Moto {
        let program = require_tool("moto_server");
        let scratch = ScratchDir::new("moto");
        let mut failures = Vec::new();
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let mut command = Command::new(&program);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .current_dir(scratch.path());
            let log = scratch.path().join(format!("moto-{attempt}.log"));
            let mut server = ChildGuard::spawn("moto_server", command, &log);
            let url = format!("http://127.0.0.1:{port}");
            match wait_until_ready(&url, &mut server).await {
                Ok(()) => {
                    let client = ssm_client(&url);
                    return Moto {
                        server,
                        url,
                        client,
                        _scratch: scratch,
                    };
                }
                Err(why) => failures.push(format!("{why}\n{}", server.output())),
            }
        }
        panic!(
            "moto_server did not start after {PORT_ATTEMPTS} attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_SSM`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// An SSM client pointed at this server (region us-east-1, static test credentials).
    pub fn client(&self) -> &aws_sdk_ssm::Client {
        &self.client
    }

    /// Creates or overwrites a parameter, as a `SecureString` when `secure`, else a `String`.
    ///
    /// A SecureString's value is recorded as a secret of the test (`ssm <name>`), except for
    /// `rules`, which the README allows as either type and which is not secret.
    pub async fn put(&self, name: &str, value: &str, secure: bool) {
        let leaf = name.rsplit('/').next().unwrap_or(name);
        if secure && leaf != "rules" {
            super::capture::secret(&format!("ssm {leaf}"), value);
        }
        let kind = if secure {
            ParameterType::SecureString
        } else {
            ParameterType::String
        };
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutParameter {name} on moto failed: {e:?}"));
    }

    /// Deletes a parameter; a parameter that does not exist is not an error here.
    pub async fn delete(&self, name: &str) {
        if let Err(e) = self.client.delete_parameter().name(name).send().await {
            let not_found = e
                .as_service_error()
                .is_some_and(|s| s.is_parameter_not_found());
            assert!(not_found, "DeleteParameter {name} on moto failed: {e:?}");
        }
    }

    /// Reads a parameter back (`None` when it does not exist).
    pub async fn get(&self, name: &str, with_decryption: bool) -> Option<String> {
        match self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(with_decryption)
            .send()
            .await
        {
            Ok(out) => out.parameter().and_then(|p| p.value()).map(str::to_owned),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                None
            }
            Err(e) => panic!("GetParameter {name} on moto failed: {e:?}"),
        }
    }

    /// Kills the server now: from here on SSM is unreachable (connection refused).
    pub fn stop(&mut self) {
        self.server.kill();
    }

    /// What moto printed (its request log).
    pub fn logs(&self) -> String {
        self.server.output()
    }
}

fn ssm_client(url: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "e2e-static"))
        // The function's own transport: the SDK has no HTTP client of its own in this crate.
        .http_client(harbor_flashduty::transport::aws::sdk_http_client(
            harbor_flashduty::transport::https_client(None).expect("the HTTPS client"),
        ))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// Polls `GET /moto-api/` until it answers 200; fails early when the server exits.
async fn wait_until_ready(url: &str, server: &mut ChildGuard) -> Result<(), String> {
    let http = super::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("building an HTTP client");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Ok(response) = http.get(format!("{url}/moto-api/")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if let Some(status) = server.exited() {
            return Err(format!(
                "moto_server exited ({status}) before answering on {url}"
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server did not answer on {url} within {STARTUP_TIMEOUT:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
