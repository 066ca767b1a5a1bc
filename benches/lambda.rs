//! The function as Lambda runs it: cold start, warm latency and peak memory, measured under a
//! minimal Lambda Runtime API written here, with a Flashduty stand-in and moto (SSM) on loopback.
//!
//! `make bench` runs it (through `scripts/bench.py`) as
//! `cargo bench --bench lambda -- --function target/release/harbor-flashduty --hello ... --out F`
//! and renders the JSON it writes into BENCHMARKS.md.
//!
//! # What is timestamped, and where
//!
//! Everything the function talks to lives in this one process, on one thread (a Tokio
//! `current_thread` runtime), so every mark is an [`Instant`] on the same clock:
//!
//! * **exec**: just before `fork`/`exec` of the binary (std's spawn returns once `exec` has
//!   succeeded, so its cost is inside the figure, as it is for the reference binary).
//! * **first poll**: the first `GET /2018-06-01/runtime/invocation/next`: init is over.
//! * **delivered**: the event is handed to the function in the answer to a `/next` poll.
//! * **responded**: the function's `POST .../invocation/{id}/response` arrives. Lambda bills
//!   from delivery to this point.
//! * **network**: SSM (moto) and the Flashduty stand-in sit behind a timestamping TCP proxy.
//!   For every HTTP exchange it records the span from the first request byte it reads to the
//!   last answer byte it writes back. "Excluding network" figures subtract the spans that fall
//!   inside the window measured, so moto's slow Python (several ms per call) and the
//!   stand-in's own handling are not charged to the function. What remains is the function's
//!   own CPU and loopback socket work.
//!
//! # Phases
//!
//! * `cold`: for each run, a fresh process and a fresh Runtime API with one event queued:
//!   the hello-world reference (`examples/hello_lambda.rs`), the function in local mode
//!   (configuration from the environment) and in SSM mode (`SSM_PREFIX`, moto), all without
//!   `SSL_CERT_FILE` as on Lambda (the compiled-in roots), and `local_cert_file`, local mode with
//!   `SSL_CERT_FILE` set to the host's CA bundle (`--cert-file`). Variants are interleaved run
//!   by run so background load hits them alike; the first runs are warm-up.
//! * `warm`: one process each, N requests in sequence: a forwarded alert (Flashduty round
//!   trip, subtracted per request to give the handler's own share), a dropped event (never
//!   calls Flashduty), the same alert under `DRY_RUN=true`, and the hello-world reference
//!   (the runtime's own floor).
//! * `rss`: 10 000 requests cycling through every sample event (`events/*.json`), then VmHWM
//!   from `/proc/<pid>/status`; the hello-world reference the same way.
//!
//! Every loop is bounded by a count and by a wall-clock limit (`--phase-limit`).

use aws_sdk_ssm::types::ParameterType;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

const FUNCTION_NAME: &str = "harbor-flashduty";
const AUTH_HEADER: &str = "Bearer harbor-flashduty-demo";
const URL_TOKEN: &str = "msr3-demo-token";
const SSM_PREFIX: &str = "/harbor-flashduty-bench";
/// A forwarded alert: a scan with critical findings (Critical, labels with every count).
const TYPICAL_EVENT: &str = "default_SCANNING_COMPLETED.json";
/// Dropped by the built-in rules: never reaches Flashduty.
const DROPPED_EVENT: &str = "default_PULL_ARTIFACT.json";
/// Longest wait for one invocation before the run is declared failed.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Arguments

struct Args {
    function: PathBuf,
    hello: Option<PathBuf>,
    moto: Option<PathBuf>,
    events: PathBuf,
    rules: PathBuf,
    out: PathBuf,
    phases: Vec<String>,
    cold_runs: usize,
    cold_warmup: usize,
    warm_requests: usize,
    rss_requests: usize,
    phase_limit: Duration,
    memory_size: u32,
    label: String,
    /// A PEM CA bundle (the host's, ~150 CAs) for the `local_cert_file` variant (cold start and
    /// init breakdown): local mode with `SSL_CERT_FILE` set, replacing the compiled-in roots.
    /// Every other variant runs without `SSL_CERT_FILE`, as on Lambda. Empty: no such variant.
    cert_file: String,
    /// More builds of the function to start in the cold phase, interleaved with the others
    /// (`--compare LABEL=BIN`): variants `local@LABEL` and `ssm@LABEL`.
    compare: Vec<(String, PathBuf)>,
}

fn usage() -> ! {
    eprintln!(
        "usage: lambda --function BIN [--hello BIN] [--moto MOTO_SERVER] [--out FILE]\n\
         \x20      [--phases cold,warm,rss] [--cold-runs N] [--cold-warmup N] [--warm-requests N]\n\
         \x20      [--rss-requests N] [--phase-limit SECONDS] [--events DIR] [--rules FILE]\n\
         \x20      [--memory-size MB] [--label TEXT] [--cert-file PEM_BUNDLE|'']\n\
         \x20      [--compare LABEL=BIN]..."
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        function: root.join("target/release/harbor-flashduty"),
        hello: None,
        moto: None,
        events: root.join("events"),
        rules: root.join("benches/data/example-rules.json"),
        out: root.join("target/bench/lambda.json"),
        phases: vec!["cold".into(), "warm".into(), "rss".into(), "init".into()],
        cold_runs: 20,
        cold_warmup: 2,
        warm_requests: 5000,
        rss_requests: 10_000,
        phase_limit: Duration::from_secs(120),
        memory_size: 128,
        label: String::new(),
        cert_file: [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
        ]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or_default()
        .to_owned(),
        compare: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` appends `--bench` to a harness = false target.
        if flag == "--bench" {
            continue;
        }
        let mut value = || it.next().unwrap_or_else(|| usage());
        let number = |v: String| v.parse::<usize>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--function" => args.function = value().into(),
            "--hello" => args.hello = Some(value().into()),
            "--moto" => args.moto = Some(value().into()),
            "--events" => args.events = value().into(),
            "--rules" => args.rules = value().into(),
            "--out" => args.out = value().into(),
            "--phases" => args.phases = value().split(',').map(str::to_owned).collect(),
            "--cold-runs" => args.cold_runs = number(value()),
            "--cold-warmup" => args.cold_warmup = number(value()),
            "--warm-requests" => args.warm_requests = number(value()),
            "--rss-requests" => args.rss_requests = number(value()),
            "--phase-limit" => args.phase_limit = Duration::from_secs(number(value()) as u64),
            "--memory-size" => args.memory_size = number(value()) as u32,
            "--label" => args.label = value(),
            "--cert-file" => args.cert_file = value(),
            "--compare" => {
                let spec = value();
                let (label, path) = spec.split_once('=').unwrap_or_else(|| usage());
                args.compare.push((label.to_owned(), PathBuf::from(path)));
            }
            _ => usage(),
        }
    }
    args
}

// ---------------------------------------------------------------------------------------------
// Minimal Lambda Runtime API

struct Completion {
    delivered: Instant,
    responded: Instant,
    /// `false` when the function reported an invocation error instead of a response.
    ok: bool,
    body: Bytes,
}

struct Pending {
    delivered: Option<Instant>,
    reply: Option<oneshot::Sender<Completion>>,
}

struct RuntimeState {
    queue_tx: mpsc::UnboundedSender<(String, Bytes)>,
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
    pending: Mutex<HashMap<String, Pending>>,
    first_poll: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    seq: AtomicU64,
}

/// One Runtime API endpoint (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`) for one process.
struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<RuntimeState>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    async fn start() -> RuntimeApi {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            pending: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            init_error: Mutex::new(None),
            seq: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding the Runtime API");
        let addr = listener.local_addr().expect("Runtime API address");
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi {
            addr,
            state,
            server,
        }
    }

    /// Queues an event; the receiver yields when the function has answered it.
    fn invoke(&self, event: Bytes) -> oneshot::Receiver<Completion> {
        let id = format!(
            "bench-{:08}",
            self.state.seq.fetch_add(1, Ordering::Relaxed)
        );
        let (reply, done) = oneshot::channel();
        self.state.pending.lock().unwrap().insert(
            id.clone(),
            Pending {
                delivered: None,
                reply: Some(reply),
            },
        );
        let _ = self.state.queue_tx.send((id, event));
        done
    }

    fn first_poll(&self) -> Option<Instant> {
        *self.state.first_poll.lock().unwrap()
    }

    fn init_error(&self) -> Option<String> {
        self.state.init_error.lock().unwrap().clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    {
        let mut first = state.first_poll.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
        }
    }
    let Some((id, event)) = state.queue_rx.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        + 30_000;
    let mut response = Response::new(axum::body::Body::from(event));
    let headers = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("x"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("lambda-runtime-aws-request-id", value(&id));
    headers.insert(
        "lambda-runtime-deadline-ms",
        value(&deadline_ms.to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:000000000000:function:harbor-flashduty"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-67d4066c-d0753a406e38b55354159a1b;Sampled=0"),
    );
    if let Some(pending) = state.pending.lock().unwrap().get_mut(&id) {
        pending.delivered = Some(Instant::now());
    }
    response
}

async fn respond(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    complete(&state, &id, true, body, Instant::now());
    StatusCode::ACCEPTED
}

async fn fail(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    complete(&state, &id, false, body, Instant::now());
    StatusCode::ACCEPTED
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    *state.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

fn complete(state: &RuntimeState, id: &str, ok: bool, body: Bytes, responded: Instant) {
    let Some(mut pending) = state.pending.lock().unwrap().remove(id) else {
        return;
    };
    if let Some(reply) = pending.reply.take() {
        let _ = reply.send(Completion {
            delivered: pending.delivered.unwrap_or(responded),
            responded,
            ok,
            body,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamping TCP proxy (the "network" that is subtracted)

#[derive(Default)]
struct Spans {
    /// `(first request byte read, last answer byte written)` per HTTP exchange.
    spans: Mutex<Vec<(Instant, Instant)>>,
    connections: AtomicUsize,
}

impl Spans {
    /// Total time of the exchanges lying inside `[from, to]`, and how many there were.
    fn inside(&self, from: Instant, to: Instant) -> (Duration, usize) {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .rev()
            .take_while(|(start, _)| *start >= from)
            .filter(|(_, end)| *end <= to)
            .fold((Duration::ZERO, 0), |(sum, n), (start, end)| {
                (sum + (*end - *start), n + 1)
            })
    }
}

struct Proxy {
    addr: SocketAddr,
    spans: Arc<Spans>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding a proxy");
        let addr = listener.local_addr().expect("proxy address");
        let spans = Arc::new(Spans::default());
        let log = Arc::clone(&spans);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                log.connections.fetch_add(1, Ordering::Relaxed);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let _ = pump(client, upstream, log).await;
                });
            }
        });
        Proxy { addr, spans, task }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies both ways; a new exchange starts with the first client bytes after an answer began.
async fn pump(client: TcpStream, upstream: SocketAddr, log: Arc<Spans>) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let mut up = vec![0u8; 64 * 1024];
    let mut down = vec![0u8; 64 * 1024];
    let mut started: Option<Instant> = None;
    let mut answering: Option<usize> = None;
    let mut client_open = true;
    loop {
        tokio::select! {
            read = client_rx.read(&mut up), if client_open => {
                let n = read?;
                if n == 0 {
                    client_open = false;
                    let _ = server_tx.shutdown().await;
                    continue;
                }
                if started.is_none() || answering.is_some() {
                    started = Some(Instant::now());
                    answering = None;
                }
                server_tx.write_all(&up[..n]).await?;
            }
            read = server_rx.read(&mut down) => {
                let n = read?;
                if n == 0 {
                    break;
                }
                client_tx.write_all(&down[..n]).await?;
                let now = Instant::now();
                let mut spans = log.spans.lock().unwrap();
                match answering {
                    Some(i) => spans[i].1 = now,
                    None => {
                        spans.push((started.unwrap_or(now), now));
                        answering = Some(spans.len() - 1);
                    }
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Flashduty stand-in: answers the standard alert push as Flashduty does

async fn flashduty_stand_in() -> (SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let received = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&received);
    let app = Router::new().fallback(move |method: Method, body: Bytes| {
        let count = Arc::clone(&count);
        async move {
            if method != Method::POST {
                // The function's warm-up HEAD: any answer will do.
                return (StatusCode::OK, "").into_response();
            }
            let n = count.fetch_add(1, Ordering::Relaxed);
            let alert_key = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("alert_key")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            let answer = json!({
                "request_id": format!("{n:032x}"),
                "data": {"alert_key": alert_key},
            });
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                answer.to_string(),
            )
                .into_response()
        }
    });
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("binding the Flashduty stand-in");
    let addr = listener.local_addr().expect("stand-in address");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, received, task)
}

// ---------------------------------------------------------------------------------------------
// moto (SSM)

struct Moto {
    child: Child,
    url: String,
    addr: SocketAddr,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn start_moto(moto_server: &Path, rules: &str, push_url: &str) -> Result<Moto, String> {
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", moto_server.display()))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            addr,
        };
        let started = Instant::now();
        let mut up = false;
        while started.elapsed() < Duration::from_secs(30) {
            if TcpStream::connect(addr).await.is_ok() {
                up = true;
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                failures.push(format!("moto_server exited: {status}"));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !up {
            continue;
        }
        put_parameters(&moto.url, rules, push_url).await?;
        return Ok(moto);
    }
    Err(format!("moto_server did not start: {failures:?}"))
}

async fn put_parameters(moto_url: &str, rules: &str, push_url: &str) -> Result<(), String> {
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    use harbor_flashduty::transport;
    // The function's own transport: the SDK has no HTTP client of its own in this crate.
    let http = transport::https_client(None).map_err(|e| format!("the HTTPS client: {e}"))?;
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(moto_url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .http_client(transport::aws::sdk_http_client(http))
        .build();
    let ssm = aws_sdk_ssm::Client::from_conf(config);
    for (key, value) in [
        ("push-url", push_url),
        ("auth-header", AUTH_HEADER),
        ("url-token", URL_TOKEN),
        ("rules", rules),
    ] {
        ssm.put_parameter()
            .name(format!("{SSM_PREFIX}/{key}"))
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| format!("putting {key} into moto: {e:?}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The function process

/// Output drained by a thread, as Lambda's runtime drains stdout; the tail is kept for errors.
#[derive(Default)]
struct Output {
    bytes: AtomicUsize,
    tail: Mutex<Vec<u8>>,
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Output>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.bytes.fetch_add(n, Ordering::Relaxed);
            let mut tail = into.tail.lock().unwrap();
            tail.extend_from_slice(&buf[..n]);
            let excess = tail.len().saturating_sub(16 * 1024);
            tail.drain(..excess);
        }
    });
}

struct Process {
    child: Child,
    output: Arc<Output>,
    exec_at: Instant,
}

impl Process {
    fn spawn(binary: &Path, env: &[(String, String)], runtime: SocketAddr) -> Process {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let exec_at = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let output = Arc::new(Output::default());
        if let Some(stdout) = child.stdout.take() {
            drain(stdout, Arc::clone(&output));
        }
        if let Some(stderr) = child.stderr.take() {
            drain(stderr, Arc::clone(&output));
        }
        Process {
            child,
            output,
            exec_at,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn logs(&self) -> String {
        String::from_utf8_lossy(&self.output.tail.lock().unwrap()).into_owned()
    }

    /// Waits for one invocation, failing fast if the process dies.
    async fn wait(
        &mut self,
        runtime: &RuntimeApi,
        mut done: oneshot::Receiver<Completion>,
    ) -> Result<Completion, String> {
        let started = Instant::now();
        loop {
            match tokio::time::timeout(Duration::from_millis(200), &mut done).await {
                Ok(Ok(completion)) => return Ok(completion),
                Ok(Err(_)) => return Err("the Runtime API dropped the invocation".into()),
                Err(_) => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the function exited ({status}); init error: {:?}\n{}",
                    runtime.init_error(),
                    self.logs()
                ));
            }
            if started.elapsed() > INVOKE_TIMEOUT {
                return Err(format!(
                    "no answer within {INVOKE_TIMEOUT:?}\n{}",
                    self.logs()
                ));
            }
        }
    }

    fn status(&self) -> ProcStatus {
        ProcStatus::read(self.pid())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Memory figures from `/proc/<pid>/status`, in kB.
#[derive(Debug, Default, Clone, Copy)]
struct ProcStatus {
    vm_hwm: u64,
    vm_rss: u64,
    rss_anon: u64,
    rss_file: u64,
    threads: u64,
}

impl ProcStatus {
    fn read(pid: u32) -> ProcStatus {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        ProcStatus {
            vm_hwm: field("VmHWM:"),
            vm_rss: field("VmRSS:"),
            rss_anon: field("RssAnon:"),
            rss_file: field("RssFile:"),
            threads: field("Threads:"),
        }
    }

    fn json(&self) -> Value {
        json!({
            "vm_hwm_kb": self.vm_hwm,
            "vm_rss_kb": self.vm_rss,
            "rss_anon_kb": self.rss_anon,
            "rss_file_kb": self.rss_file,
            "threads": self.threads,
        })
    }
}

/// The environment a Lambda function gets, plus harmless AWS settings for local runs.
fn lambda_env(memory_size: u32, home: &Path) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/harbor-flashduty"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/24/[$LATEST]bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            memory_size.to_string(),
        ),
        ("HOME".to_owned(), home.display().to_string()),
    ])
    .collect()
}

/// Environment variables for a child process.
type Env = Vec<(String, String)>;

fn with(base: &[(String, String)], extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env
}

// ---------------------------------------------------------------------------------------------
// Statistics

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn summary(values: &[f64]) -> Value {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        sorted.iter().sum::<f64>() / n as f64
    };
    json!({
        "n": n,
        "min": sorted.first().copied().unwrap_or(f64::NAN),
        "p50": quantile(&sorted, 0.50),
        "p90": quantile(&sorted, 0.90),
        "p99": quantile(&sorted, 0.99),
        "max": sorted.last().copied().unwrap_or(f64::NAN),
        "mean": mean,
    })
}

fn status_code(body: &[u8]) -> u16 {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
        .unwrap_or(0) as u16
}

// ---------------------------------------------------------------------------------------------
// Phases

struct World {
    args: Args,
    base_env: Vec<(String, String)>,
    _home: tempfile::TempDir,
    events: Vec<(String, Bytes)>,
    typical: Bytes,
    dropped: Bytes,
    rules: String,
    flashduty: Proxy,
    flashduty_received: Arc<AtomicUsize>,
    push_url: String,
    ssm: Option<(Moto, Proxy)>,
    ssm_error: Option<String>,
}

impl World {
    fn local_env(&self, dry_run: bool) -> Vec<(String, String)> {
        let mut extra = vec![
            ("HARBOR_AUTH_HEADER", AUTH_HEADER.to_owned()),
            ("URL_TOKEN", URL_TOKEN.to_owned()),
            ("RULES_FILE", self.args.rules.display().to_string()),
            ("FLASHDUTY_PUSH_URL", self.push_url.clone()),
        ];
        if dry_run {
            extra.push(("DRY_RUN", "true".to_owned()));
        }
        with(&self.base_env, &extra)
    }

    fn ssm_env(&self) -> Option<Vec<(String, String)>> {
        let (_, proxy) = self.ssm.as_ref()?;
        Some(with(
            &self.base_env,
            &[
                ("SSM_PREFIX", SSM_PREFIX.to_owned()),
                ("AWS_ENDPOINT_URL_SSM", format!("http://{}", proxy.addr)),
            ],
        ))
    }

    /// Local mode with `SSL_CERT_FILE` set to `--cert-file`, if one was given.
    fn local_cert_file_env(&self) -> Option<Vec<(String, String)>> {
        if self.args.cert_file.is_empty() {
            return None;
        }
        Some(with(
            &self.local_env(false),
            &[("SSL_CERT_FILE", self.args.cert_file.clone())],
        ))
    }

    fn hello_env(&self) -> Vec<(String, String)> {
        self.base_env.clone()
    }

    /// Network time inside a window: SSM and Flashduty exchanges.
    fn network(&self, from: Instant, to: Instant) -> (Duration, usize) {
        let (fd, fd_n) = self.flashduty.spans.inside(from, to);
        let (ssm, ssm_n) = self
            .ssm
            .as_ref()
            .map_or((Duration::ZERO, 0), |(_, p)| p.spans.inside(from, to));
        (fd + ssm, fd_n + ssm_n)
    }
}

/// One cold start: fresh Runtime API, event queued, exec, first response.
async fn cold_once(
    world: &World,
    binary: &Path,
    env: &[(String, String)],
) -> Result<Value, String> {
    let runtime = RuntimeApi::start().await;
    let done = runtime.invoke(world.typical.clone());
    let mut process = Process::spawn(binary, env, runtime.addr);
    let exec_at = process.exec_at;
    let completion = process.wait(&runtime, done).await?;
    let memory = process.status();
    let first_poll = runtime
        .first_poll()
        .ok_or("answered without polling /next")?;
    let status = status_code(&completion.body);
    if !completion.ok || status != 200 {
        return Err(format!(
            "first invocation failed (status {status}): {}\n{}",
            String::from_utf8_lossy(&completion.body),
            process.logs()
        ));
    }
    let (net_init, calls_init) = world.network(exec_at, first_poll);
    let (net_invoke, calls_invoke) = world.network(completion.delivered, completion.responded);
    let init = first_poll - exec_at;
    let first_response = completion.responded - exec_at;
    let invoke = completion.responded - completion.delivered;
    Ok(json!({
        "init_ms": ms(init),
        "init_excl_network_ms": ms(init.saturating_sub(net_init)),
        "invoke_ms": ms(invoke),
        "invoke_excl_network_ms": ms(invoke.saturating_sub(net_invoke)),
        "first_response_ms": ms(first_response),
        "first_response_excl_network_ms": ms(first_response.saturating_sub(net_init + net_invoke)),
        "network_init_ms": ms(net_init),
        "network_invoke_ms": ms(net_invoke),
        "network_calls": calls_init + calls_invoke,
        "vm_hwm_kb": memory.vm_hwm,
    }))
}

async fn phase_cold(world: &World) -> Value {
    let limit = Instant::now() + world.args.phase_limit;
    let mut variants: Vec<(String, PathBuf, Env)> = Vec::new();
    if let Some(hello) = &world.args.hello {
        variants.push(("hello".into(), hello.clone(), world.hello_env()));
    }
    variants.push((
        "local".into(),
        world.args.function.clone(),
        world.local_env(false),
    ));
    if let Some(env) = world.ssm_env() {
        variants.push(("ssm".into(), world.args.function.clone(), env));
    }
    for (label, binary) in &world.args.compare {
        variants.push((
            format!("local@{label}"),
            binary.clone(),
            world.local_env(false),
        ));
        if let Some(env) = world.ssm_env() {
            variants.push((format!("ssm@{label}"), binary.clone(), env));
        }
    }
    if let Some(env) = world.local_cert_file_env()
        && world.args.compare.is_empty()
    {
        // SSL_CERT_FILE = the host's CA bundle: the cost of replacing the compiled-in roots.
        variants.push(("local_cert_file".into(), world.args.function.clone(), env));
    }
    let mut samples: HashMap<String, Vec<Value>> = HashMap::new();
    let mut errors: HashMap<String, Vec<String>> = HashMap::new();
    let total = world.args.cold_warmup + world.args.cold_runs;
    let mut completed_rounds = 0;
    for round in 0..total {
        if Instant::now() > limit {
            eprintln!("cold: phase time limit reached after {round} rounds");
            break;
        }
        for (name, binary, env) in &variants {
            match cold_once(world, binary, env).await {
                Ok(sample) if round >= world.args.cold_warmup => {
                    samples.entry(name.clone()).or_default().push(sample)
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("cold {name}: {e}");
                    errors.entry(name.clone()).or_default().push(e);
                }
            }
        }
        completed_rounds = round + 1;
    }
    let mut result = serde_json::Map::new();
    for (name, _, _) in &variants {
        let runs = samples.remove(name).unwrap_or_default();
        let field = |key: &str| -> Vec<f64> {
            runs.iter()
                .filter_map(|r| r.get(key).and_then(Value::as_f64))
                .collect()
        };
        let mut fields = serde_json::Map::new();
        for key in [
            "init_ms",
            "init_excl_network_ms",
            "invoke_ms",
            "invoke_excl_network_ms",
            "first_response_ms",
            "first_response_excl_network_ms",
            "network_init_ms",
            "network_invoke_ms",
            "vm_hwm_kb",
        ] {
            fields.insert(key.to_owned(), summary(&field(key)));
        }
        fields.insert(
            "network_calls".to_owned(),
            runs.first()
                .and_then(|r| r.get("network_calls").cloned())
                .unwrap_or(Value::Null),
        );
        fields.insert("runs".to_owned(), json!(runs.len()));
        fields.insert(
            "errors".to_owned(),
            json!(errors.remove(name).unwrap_or_default()),
        );
        result.insert(name.clone(), Value::Object(fields));
    }
    result.insert("rounds".to_owned(), json!(completed_rounds));
    result.insert("warmup_rounds".to_owned(), json!(world.args.cold_warmup));
    result.insert("event".to_owned(), json!(TYPICAL_EVENT));
    result.insert("cert_file".to_owned(), json!(world.args.cert_file));
    Value::Object(result)
}

/// A warm series in one process: `requests` invocations cycling through `events`.
async fn warm_series(
    world: &World,
    binary: &Path,
    env: &[(String, String)],
    events: &[Bytes],
    requests: usize,
    limit: Instant,
) -> Result<Value, String> {
    let runtime = RuntimeApi::start().await;
    let mut process = Process::spawn(binary, env, runtime.addr);
    // Wait for init, then note memory before the first request.
    let init_wait = Instant::now();
    while runtime.first_poll().is_none() {
        if init_wait.elapsed() > INVOKE_TIMEOUT {
            return Err(format!(
                "no /next poll within {INVOKE_TIMEOUT:?}\n{}",
                process.logs()
            ));
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(format!(
                "the function exited during init ({status})\n{}",
                process.logs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_init = process.status();
    // Warm-up: connections, allocator, caches.
    for i in 0..20 {
        let done = runtime.invoke(events[i % events.len()].clone());
        process.wait(&runtime, done).await?;
    }
    let mut durations = Vec::with_capacity(requests);
    let mut own = Vec::with_capacity(requests);
    let mut network = Vec::with_capacity(requests);
    let mut round_trips = Vec::with_capacity(requests);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut failures = 0usize;
    let started = Instant::now();
    for i in 0..requests {
        if Instant::now() > limit {
            eprintln!("warm: time limit reached after {i} requests");
            break;
        }
        let enqueued = Instant::now();
        let done = runtime.invoke(events[i % events.len()].clone());
        let completion = process.wait(&runtime, done).await?;
        let duration = completion.responded - completion.delivered;
        let (net, _) = world.network(completion.delivered, completion.responded);
        durations.push(ms(duration));
        own.push(ms(duration.saturating_sub(net)));
        network.push(ms(net));
        round_trips.push(ms(completion.responded - enqueued));
        if !completion.ok {
            failures += 1;
        }
        *statuses.entry(status_code(&completion.body)).or_default() += 1;
    }
    let elapsed = started.elapsed();
    let end = process.status();
    Ok(json!({
        "requests": durations.len(),
        "elapsed_s": elapsed.as_secs_f64(),
        "duration_ms": summary(&durations),
        "handler_excl_network_ms": summary(&own),
        "network_ms": summary(&network),
        "enqueue_to_response_ms": summary(&round_trips),
        "statuses": statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "invocation_errors": failures,
        "memory_after_init": after_init.json(),
        "memory_end": end.json(),
        "log_bytes": process.output.bytes.load(Ordering::Relaxed),
    }))
}

async fn phase_warm(world: &World) -> Value {
    let n = world.args.warm_requests;
    let mut result = serde_json::Map::new();
    let function = world.args.function.clone();
    let typical = std::slice::from_ref(&world.typical);
    let dropped = std::slice::from_ref(&world.dropped);
    let mut series: Vec<(&str, PathBuf, Env, &[Bytes])> = vec![
        (
            "forwarded",
            function.clone(),
            world.local_env(false),
            typical,
        ),
        ("dropped", function.clone(), world.local_env(false), dropped),
        ("dry_run", function.clone(), world.local_env(true), typical),
    ];
    if let Some(hello) = &world.args.hello {
        series.push(("hello", hello.clone(), world.hello_env(), typical));
    }
    for (name, binary, env, events) in series {
        let limit = Instant::now() + world.args.phase_limit;
        let before = world.flashduty.spans.connections.load(Ordering::Relaxed);
        let value = match warm_series(world, &binary, &env, events, n, limit).await {
            Ok(mut v) => {
                v["flashduty_connections"] =
                    json!(world.flashduty.spans.connections.load(Ordering::Relaxed) - before);
                v
            }
            Err(e) => {
                eprintln!("warm {name}: {e}");
                json!({"error": e})
            }
        };
        result.insert(name.to_owned(), value);
    }
    result.insert("typical_event".to_owned(), json!(TYPICAL_EVENT));
    result.insert("dropped_event".to_owned(), json!(DROPPED_EVENT));
    Value::Object(result)
}

async fn phase_rss(world: &World) -> Value {
    let n = world.args.rss_requests;
    let all: Vec<Bytes> = world.events.iter().map(|(_, b)| b.clone()).collect();
    let mut result = serde_json::Map::new();
    let limit = Instant::now() + world.args.phase_limit;
    let function = world.args.function.clone();
    result.insert(
        "function".to_owned(),
        warm_series(world, &function, &world.local_env(false), &all, n, limit)
            .await
            .unwrap_or_else(|e| json!({"error": e})),
    );
    if let Some(hello) = &world.args.hello {
        let limit = Instant::now() + world.args.phase_limit;
        let typical = std::slice::from_ref(&world.typical);
        result.insert(
            "hello".to_owned(),
            warm_series(world, hello, &world.hello_env(), typical, n, limit)
                .await
                .unwrap_or_else(|e| json!({"error": e})),
        );
    }
    result.insert("events".to_owned(), json!(world.events.len()));
    Value::Object(result)
}

// ---------------------------------------------------------------------------------------------
// Init breakdown: main.rs's start-up steps, each timed, in a fresh process

/// Runs in a child process (this binary re-executed with `--init-child OUT`): the steps of
/// `src/main.rs` in its order, each timed on first use, written to OUT as JSON (microseconds).
/// The last step repeats the SSM read on a warm client, so "first SSM read - repeat" is the
/// cost of the SDK's first call (connection, credentials, endpoint resolution).
fn init_child(out: &str) {
    use harbor_flashduty::config::{
        ConfigCache, ConfigSource, LocalSource, Settings, Source, SsmSource,
    };
    use harbor_flashduty::flashduty::{Flashduty, RetryPolicy};
    use harbor_flashduty::handler::Handler;
    use harbor_flashduty::transport;

    let mut steps: Vec<(&str, Duration)> = Vec::new();
    let mut mark = Instant::now();
    let mut step = |name: &'static str, steps: &mut Vec<(&str, Duration)>| {
        let now = Instant::now();
        steps.push((name, now - mark));
        mark = now;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    step("tokio_runtime", &mut steps);
    runtime.block_on(async {
        harbor_flashduty::logging::init(std::env::var("RUST_LOG").ok().as_deref());
        step("logging", &mut steps);
        let env = |name: &str| std::env::var(name).ok();
        let settings = Settings::from_env(env).expect("settings");
        step("settings", &mut steps);
        let cert_file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        let http = transport::https_client(cert_file.as_deref()).expect("the HTTPS client");
        step("https_client", &mut steps);
        let mut ssm_client = None;
        let source = match &settings.ssm_prefix {
            Some(prefix) => {
                let ssm = transport::aws::ssm_client(http.clone(), env);
                step("ssm_client_new", &mut steps);
                ssm_client = Some((ssm.clone(), prefix.clone()));
                Source::Ssm(SsmSource::new(
                    ssm,
                    prefix.clone(),
                    settings.allow_unauthenticated,
                ))
            }
            None => {
                let local = LocalSource::from_env(env, settings.allow_unauthenticated);
                step("local_source_with_rules", &mut steps);
                Source::Local(local)
            }
        };
        let flashduty = Flashduty::new(http, RetryPolicy::default());
        step("flashduty_client_new", &mut steps);
        let handler = Handler::new(
            ConfigCache::new(source, settings.ttl),
            flashduty.clone(),
            settings.dry_run,
        );
        step("handler_new", &mut steps);
        let push_url = handler.prefetch().await;
        step("prefetch_config", &mut steps);
        if let Some(push_url) = &push_url
            && !settings.dry_run
        {
            flashduty.warm_up(push_url).await;
            step("flashduty_warm_up", &mut steps);
        }
        if let Some((ssm, prefix)) = ssm_client {
            let again = SsmSource::new(ssm, prefix, false).load().await;
            step("ssm_read_repeat", &mut steps);
            if let Err(e) = again {
                eprintln!("repeat SSM read failed: {e}");
            }
        }
    });
    let result: serde_json::Map<String, Value> = steps
        .iter()
        .map(|(name, d)| ((*name).to_owned(), json!(d.as_secs_f64() * 1e6)))
        .collect();
    std::fs::write(out, Value::Object(result).to_string()).expect("writing the init breakdown");
}

async fn phase_init(world: &World) -> Value {
    let me = std::env::current_exe().expect("own path");
    let scratch = tempfile::tempdir().expect("scratch");
    // As in the cold phase: no SSL_CERT_FILE (the compiled-in roots), except local_cert_file.
    let mut variants: Vec<(&str, Env)> = vec![("local", world.local_env(false))];
    if let Some(env) = world.ssm_env() {
        variants.push(("ssm", env));
    }
    if let Some(env) = world.local_cert_file_env() {
        variants.push(("local_cert_file", env));
    }
    let limit = Instant::now() + world.args.phase_limit;
    let runs = world.args.cold_runs.clamp(1, 20);
    let mut result = serde_json::Map::new();
    for (name, env) in variants {
        let mut per_step: Vec<(String, Vec<f64>)> = Vec::new();
        let mut errors = Vec::new();
        for run in 0..runs + 1 {
            if Instant::now() > limit {
                break;
            }
            let out = scratch.path().join(format!("{name}-{run}.json"));
            // Async: this runtime serves the stand-in and the proxies the child talks to.
            let child = tokio::process::Command::new(&me)
                .arg("--init-child")
                .arg(&out)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .output();
            let status = match tokio::time::timeout(INVOKE_TIMEOUT, child).await {
                Ok(status) => status,
                Err(_) => Err(std::io::Error::other("the init child timed out")),
            };
            let parsed = std::fs::read_to_string(&out)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Map<String, Value>>(&t).ok());
            match (status, parsed) {
                (_, Some(steps)) if run > 0 => {
                    for (step, micros) in steps {
                        let value = micros.as_f64().unwrap_or(f64::NAN) / 1000.0;
                        match per_step.iter_mut().find(|(s, _)| *s == step) {
                            Some((_, values)) => values.push(value),
                            None => per_step.push((step, vec![value])),
                        }
                    }
                }
                (_, Some(_)) => {}
                (Ok(output), None) => {
                    errors.push(String::from_utf8_lossy(&output.stderr).into_owned())
                }
                (Err(e), None) => errors.push(e.to_string()),
            }
        }
        let mut steps = serde_json::Map::new();
        for (step, values) in per_step {
            steps.insert(step, summary(&values));
        }
        result.insert(
            name.to_owned(),
            json!({"steps_ms": Value::Object(steps), "errors": errors}),
        );
    }
    result.insert("runs".to_owned(), json!(runs));
    Value::Object(result)
}
// ---------------------------------------------------------------------------------------------

fn load_events(dir: &Path) -> Vec<(String, Bytes)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read(&p).expect("an event file");
            // Lambda delivers compact JSON.
            let value: Value = serde_json::from_slice(&text).expect("events are JSON");
            (name, Bytes::from(serde_json::to_vec(&value).expect("JSON")))
        })
        .collect()
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let raw: Vec<String> = std::env::args().collect();
    if raw.len() >= 3 && raw[1] == "--init-child" {
        // Not inside this runtime: the child builds its own, as main.rs does.
        let out = raw[2].clone();
        std::thread::spawn(move || init_child(&out))
            .join()
            .expect("init child");
        return;
    }
    let args = parse_args();
    let started = Instant::now();
    let events = load_events(&args.events);
    let find = |name: &str| {
        events
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("{name} is missing from {}", args.events.display()))
    };
    let typical = find(TYPICAL_EVENT);
    let dropped = find(DROPPED_EVENT);
    let rules = std::fs::read_to_string(&args.rules)
        .unwrap_or_else(|e| panic!("reading {}: {e}", args.rules.display()));

    let (stand_in, flashduty_received, _stand_in_task) = flashduty_stand_in().await;
    let flashduty = Proxy::start(stand_in).await;
    let push_url = format!(
        "http://{}/event/push/alert/standard?integration_key=bench-key",
        flashduty.addr
    );
    let (ssm, ssm_error) = match &args.moto {
        Some(moto_server) if args.phases.iter().any(|p| p == "cold" || p == "init") => {
            match start_moto(moto_server, &rules, &push_url).await {
                Ok(moto) => {
                    let proxy = Proxy::start(moto.addr).await;
                    (Some((moto, proxy)), None)
                }
                Err(e) => {
                    eprintln!("SSM variant skipped: {e}");
                    (None, Some(e))
                }
            }
        }
        _ => (None, None),
    };
    let home = tempfile::tempdir().expect("a scratch HOME");
    // No SSL_CERT_FILE, as on Lambda: the function trusts its compiled-in roots. (Children
    // start from a cleared environment, so none leaks in from this process's.)
    let base_env = lambda_env(args.memory_size, home.path());
    let world = World {
        base_env,
        _home: home,
        events,
        typical,
        dropped,
        rules,
        flashduty,
        flashduty_received,
        push_url,
        ssm,
        ssm_error,
        args,
    };
    let _ = &world.rules;

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut report = serde_json::Map::new();
    for phase in world.args.phases.clone() {
        let phase_started = Instant::now();
        eprintln!("phase {phase} ...");
        let value = match phase.as_str() {
            "cold" => phase_cold(&world).await,
            "warm" => phase_warm(&world).await,
            "rss" => phase_rss(&world).await,
            "init" => phase_init(&world).await,
            other => json!({"error": format!("unknown phase {other}")}),
        };
        eprintln!(
            "phase {phase}: {:.1} s",
            phase_started.elapsed().as_secs_f64()
        );
        report.insert(phase, value);
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    report.insert(
        "meta".to_owned(),
        json!({
            "label": world.args.label,
            "function": world.args.function.display().to_string(),
            "function_bytes": file_size(&world.args.function),
            "hello": world.args.hello.as_ref().map(|p| p.display().to_string()),
            "hello_bytes": world.args.hello.as_deref().and_then(file_size),
            "memory_size_env": world.args.memory_size,
            "cpu": cpu,
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "loadavg_before": load_before.trim(),
            "loadavg_after": load_after.trim(),
            "elapsed_s": started.elapsed().as_secs_f64(),
            "ssm_error": world.ssm_error,
            "flashduty_alerts_received": world.flashduty_received.load(Ordering::Relaxed),
        }),
    );
    let text = serde_json::to_string_pretty(&Value::Object(report)).expect("JSON");
    if let Some(dir) = world.args.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&world.args.out, text)
        .unwrap_or_else(|e| panic!("writing {}: {e}", world.args.out.display()));
    eprintln!(
        "wrote {} in {:.1} s",
        world.args.out.display(),
        started.elapsed().as_secs_f64()
    );
}
