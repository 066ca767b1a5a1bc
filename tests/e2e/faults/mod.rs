//! The fault matrix: the built function, behind its local Function URL, against every failure of
//! Flashduty and SSM it must survive, with the figures written to `target/reliability/faults.json`.
//!
//! Each case gets its own Flashduty stand-in (`tests/support/flashduty.rs`) and function; the
//! SSM cases share one `moto_server` (a prefix each) and reach it through their own loopback
//! proxy (`tests/support/proxy.rs`), which can refuse connections, hang or throttle. For every
//! request of every case the test checks
//!
//! * the status the case expects and an answer within Harbor's 3 s;
//! * the invariant of SPEC §4, "2xx if and only if Flashduty accepted the alert or a rule
//!   dropped it": the alert keys the request must produce come from the library's own
//!   conversion (`harbor_flashduty_core::convert`) of the same body and rules; *accepted* means the
//!   stand-in accepted every one of them between the request being sent and answered (a hang
//!   that completes later does not count), and a 2xx must name the request id of that
//!   acceptance;
//! * what the case adds: how many attempts reached Flashduty, that `Retry-After` was waited
//!   for, that a failed SSM refresh logged a warning and kept the last good configuration.
//!
//! Single-request cases of the same faults exist in `e2e_http.rs` and `e2e_ssm.rs`; this test is
//! the table that covers them all at once, with timings, and adds SSM hanging or throttling and
//! recovery after an SSM outage at cold start.
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e_faults`.

mod support;

use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::rules::Rules;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fixtures::fixture;
use support::process::{closed_port, random_hex};
use support::proxy::{Mode, Proxy};
use support::report;
use support::{Behaviour, FlashdutyStandIn, Function, Moto, Reply, Secrets};

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
const PULL: &str = "harbor/default_PULL_ARTIFACT.json";
/// Harbor waits 3 s for an answer (SPEC §4).
const HARBOR_TIMEOUT: Duration = Duration::from_secs(3);
/// `CONFIG_TTL_SECONDS` of the SSM cases, so refreshes happen within the test.
const TTL: Duration = Duration::from_secs(1);
/// Rules in effect before a refresh fails: they add a label, so the test can tell them apart.
const RULES_V1: &str = r#"{"labels": {"rules_version": "1"}}"#;
const RULES_V2: &str = r#"{"labels": {"rules_version": "2"}}"#;
/// Rules that fail validation: an unknown severity (SPEC §7).
const RULES_INVALID: &str =
    r#"{"rules": [{"name": "broken", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Severe"}]}"#;

/// How many delivery attempts the faulted request must make.
#[derive(Clone, Copy, Debug)]
enum Attempts {
    Exactly(usize),
    AtLeast(usize),
    Any,
}

/// What fails.
#[derive(Clone, Debug)]
enum Fault {
    /// Local mode; the stand-in plays `script`, then `default`.
    Flashduty {
        script: Vec<Behaviour>,
        default: Behaviour,
        fixture: &'static str,
    },
    /// Local mode; the push URL points at a port nothing listens on.
    ConnectionRefused,
    /// SSM mode; SSM is in `mode` when the function starts, then comes back.
    SsmAtColdStart(Mode),
    /// SSM mode; SSM goes into `mode` after a good load and the TTL passes.
    SsmAtRefresh(Mode),
    /// SSM mode; the rules parameter becomes invalid after a good load.
    RulesInvalidAtRefresh,
}

struct Case {
    name: &'static str,
    what: &'static str,
    fault: Fault,
    expect: u16,
    attempts: Attempts,
    /// The retry must come at least this long after the first attempt.
    min_retry_gap: Option<Duration>,
}

fn cases() -> Vec<Case> {
    let flashduty = |script: Vec<Behaviour>, default: Behaviour| Fault::Flashduty {
        script,
        default,
        fixture: QUOTA_EXCEEDED,
    };
    let too_many = |after: Option<&str>| Behaviour::TooMany {
        retry_after: after.map(str::to_owned),
    };
    let case = |name, what, fault, expect, attempts| Case {
        name,
        what,
        fault,
        expect,
        attempts,
        min_retry_gap: None,
    };
    vec![
        case(
            "baseline",
            "healthy Flashduty",
            flashduty(vec![], Behaviour::Accept),
            200,
            Attempts::Exactly(1),
        ),
        case(
            "flashduty_500_once",
            "Flashduty 500 once, then accepts",
            flashduty(vec![Behaviour::Status(500)], Behaviour::Accept),
            200,
            Attempts::Exactly(2),
        ),
        case(
            "flashduty_500_always",
            "Flashduty 500 on every attempt",
            flashduty(vec![], Behaviour::Status(500)),
            503,
            Attempts::AtLeast(2),
        ),
        case(
            "flashduty_503_always",
            "Flashduty 503 on every attempt",
            flashduty(vec![], Behaviour::Status(503)),
            503,
            Attempts::AtLeast(2),
        ),
        case(
            "flashduty_429_once",
            "Flashduty 429 without Retry-After once, then accepts",
            flashduty(vec![too_many(None)], Behaviour::Accept),
            200,
            Attempts::Exactly(2),
        ),
        case(
            "flashduty_429_always",
            "Flashduty 429 without Retry-After on every attempt",
            flashduty(vec![], too_many(None)),
            503,
            Attempts::AtLeast(2),
        ),
        Case {
            min_retry_gap: Some(Duration::from_millis(950)),
            ..case(
                "flashduty_429_retry_after_1",
                "Flashduty 429 with Retry-After: 1 once, then accepts",
                flashduty(vec![too_many(Some("1"))], Behaviour::Accept),
                200,
                Attempts::Exactly(2),
            )
        },
        case(
            "flashduty_429_retry_after_30",
            "Flashduty 429 with Retry-After: 30 (past the budget)",
            flashduty(vec![], too_many(Some("30"))),
            503,
            Attempts::Exactly(1),
        ),
        case(
            "flashduty_400",
            "Flashduty 400 InvalidParameter",
            flashduty(vec![], Behaviour::Reject400),
            502,
            Attempts::Exactly(1),
        ),
        case(
            "flashduty_200_error_body",
            "Flashduty 200 carrying an error object",
            flashduty(vec![], Behaviour::ErrorBody200),
            502,
            Attempts::Exactly(1),
        ),
        case(
            "flashduty_hang",
            "Flashduty hangs 10 s on every attempt",
            flashduty(vec![], Behaviour::Hang(Duration::from_secs(10))),
            503,
            Attempts::AtLeast(1),
        ),
        case(
            "flashduty_hang_once",
            "Flashduty hangs 10 s once, then accepts",
            flashduty(
                vec![Behaviour::Hang(Duration::from_secs(10))],
                Behaviour::Accept,
            ),
            200,
            Attempts::Exactly(2),
        ),
        case(
            "flashduty_connection_refused",
            "Flashduty connection refused",
            Fault::ConnectionRefused,
            503,
            Attempts::Any,
        ),
        case(
            "pull_dropped_while_flashduty_fails",
            "Flashduty 500, event dropped by a rule (pull)",
            Fault::Flashduty {
                script: vec![],
                default: Behaviour::Status(500),
                fixture: PULL,
            },
            200,
            Attempts::Exactly(0),
        ),
        case(
            "ssm_refused_at_cold_start",
            "SSM connection refused at cold start, then back",
            Fault::SsmAtColdStart(Mode::Down),
            503,
            Attempts::Exactly(0),
        ),
        case(
            "ssm_hang_at_cold_start",
            "SSM hangs at cold start, then back",
            Fault::SsmAtColdStart(Mode::Hang),
            503,
            Attempts::Exactly(0),
        ),
        case(
            "ssm_throttled_at_cold_start",
            "SSM ThrottlingException at cold start, then back",
            Fault::SsmAtColdStart(Mode::ssm_throttling()),
            503,
            Attempts::Exactly(0),
        ),
        case(
            "ssm_refused_at_refresh",
            "SSM connection refused at refresh",
            Fault::SsmAtRefresh(Mode::Down),
            200,
            Attempts::Exactly(1),
        ),
        case(
            "ssm_hang_at_refresh",
            "SSM hangs at refresh",
            Fault::SsmAtRefresh(Mode::Hang),
            200,
            Attempts::Exactly(1),
        ),
        case(
            "ssm_throttled_at_refresh",
            "SSM ThrottlingException at refresh",
            Fault::SsmAtRefresh(Mode::ssm_throttling()),
            200,
            Attempts::Exactly(1),
        ),
        case(
            "rules_invalid_at_refresh",
            "rules parameter made invalid at refresh",
            Fault::RulesInvalidAtRefresh,
            200,
            Attempts::Exactly(1),
        ),
    ]
}

/// One request of a case, as measured.
struct Sent {
    label: String,
    reply: Reply,
    /// The alert keys the body must produce under the rules in effect (empty: dropped).
    keys: Vec<String>,
    /// Delivery attempts (pushes) the stand-in received while the request was open.
    attempts: usize,
    /// Whether every expected key was accepted while the request was open.
    delivered: bool,
    invariant: Result<(), String>,
}

/// The outcome of one case.
struct Row {
    case: &'static str,
    what: &'static str,
    expect: u16,
    /// The request the fault applies to.
    main: usize,
    sent: Vec<Sent>,
    warning_logged: Option<bool>,
    problems: Vec<String>,
}

/// The alert keys `body` gives under `rules` (none when a rule drops every event).
fn expected_keys(rel: &str, rules: &Rules) -> Vec<String> {
    let converted = convert(&fixture(rel), None, rules)
        .unwrap_or_else(|e| panic!("fixture {rel} does not convert: {e}"));
    converted
        .into_iter()
        .filter_map(|c| match c.action {
            Action::Send(alert) => Some(alert.alert_key),
            Action::Drop { .. } => None,
        })
        .collect()
}

fn rules(json: Option<&str>) -> Rules {
    json.map_or_else(Rules::builtin, |text| {
        Rules::from_json(text).expect("the test's rules are valid")
    })
}

/// Sends `rel` with the right `Authorization` and checks the invariant against the stand-in.
async fn send(
    label: &str,
    function: &Function,
    flashduty: &FlashdutyStandIn,
    secrets: &Secrets,
    rel: &str,
    rules_in_effect: &Rules,
) -> Sent {
    let pushes_before = flashduty.push_count();
    let reply = function.post_fixture(rel, Some(&secrets.auth_header)).await;
    let keys = expected_keys(rel, rules_in_effect);
    let accepted: Vec<_> = flashduty
        .accepted()
        .into_iter()
        .filter(|a| a.received_at >= reply.sent_at && a.completed_at <= reply.answered_at)
        .collect();
    let delivered = !keys.is_empty()
        && keys
            .iter()
            .all(|key| accepted.iter().any(|a| a.alert_key() == key));
    let dropped = keys.is_empty();
    let mut invariant = Ok(());
    if reply.is_success() != (delivered || dropped) {
        invariant = Err(format!(
            "HTTP {} but {} (expected keys {keys:?}): {}",
            reply.status,
            if delivered {
                "Flashduty accepted every alert"
            } else if dropped {
                "a rule dropped the event"
            } else {
                "Flashduty did not accept every alert during the request"
            },
            reply.raw
        ));
    } else if reply.is_success() {
        for alert in reply.body["alerts"].as_array().into_iter().flatten() {
            let id = alert["flashduty_request_id"].as_str().unwrap_or_default();
            if !accepted.iter().any(|a| a.request_id == id) {
                invariant = Err(format!(
                    "2xx reports flashduty_request_id {id:?}, which the stand-in did not accept during the request"
                ));
            }
        }
    }
    Sent {
        label: label.to_owned(),
        attempts: flashduty.push_count() - pushes_before,
        reply,
        keys,
        delivered,
        invariant,
    }
}

/// The function logged a warning about the failed configuration refresh since `from`.
async fn warning_since(function: &Function, from: usize, needle: Option<&str>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let logs = function.logs();
        let since = logs.get(from..).unwrap_or_default();
        let found = since.lines().any(|line| {
            line.contains("\"level\":\"WARN\"")
                && line.contains("configuration refresh failed")
                && needle.is_none_or(|n| line.contains(n))
        });
        if found || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run_local(case: &Case) -> Row {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let (push_url, rel) = match &case.fault {
        Fault::Flashduty {
            script,
            default,
            fixture,
        } => {
            flashduty.script(script.iter().cloned());
            flashduty.set_default(default.clone());
            (flashduty.push_url(), *fixture)
        }
        Fault::ConnectionRefused => (
            format!(
                "http://127.0.0.1:{}/event/push/alert/standard?integration_key={}",
                closed_port(),
                secrets.integration_key
            ),
            QUOTA_EXCEEDED,
        ),
        _ => unreachable!("not a local-mode case"),
    };
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &push_url),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
    ])
    .await;
    let sent = send(
        "faulted",
        &function,
        &flashduty,
        &secrets,
        rel,
        &Rules::builtin(),
    )
    .await;
    let mut problems = Vec::new();
    if let Some(gap) = case.min_retry_gap {
        let pushes = flashduty.pushes();
        let waited = pushes.get(1).zip(pushes.first()).map(|(b, a)| b.at - a.at);
        if waited.is_none_or(|w| w < gap) {
            problems.push(format!(
                "the retry came {waited:?} after the first attempt; Retry-After asked for {gap:?}"
            ));
        }
    }
    flashduty.assert_all_valid();
    Row {
        case: case.name,
        what: case.what,
        expect: case.expect,
        main: 0,
        sent: vec![sent],
        warning_logged: None,
        problems,
    }
}

/// A moto shared by the SSM cases, reached through a proxy per case.
struct SharedMoto {
    moto: Moto,
    addr: SocketAddr,
}

async fn run_ssm(case: &Case, shared: &SharedMoto) -> Row {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let prefix = format!("/faults-{}", random_hex(6));
    let param = |name: &str| format!("{prefix}/{name}");
    shared
        .moto
        .put(&param("push-url"), &flashduty.push_url(), true)
        .await;
    shared
        .moto
        .put(&param("auth-header"), &secrets.auth_header, true)
        .await;
    shared.moto.put(&param("rules"), RULES_V1, false).await;
    let v1 = rules(Some(RULES_V1));

    let initial = match &case.fault {
        Fault::SsmAtColdStart(mode) => mode.clone(),
        _ => Mode::Forward,
    };
    let mut proxy = Proxy::start(shared.addr, initial).await;
    let ttl = TTL.as_secs().to_string();
    let endpoint = proxy.url();
    let function = Function::start(&[
        ("SSM_PREFIX", &prefix),
        ("AWS_ENDPOINT_URL_SSM", &endpoint),
        ("CONFIG_TTL_SECONDS", &ttl),
    ])
    .await;
    let rel = QUOTA_EXCEEDED;
    let mut sent = Vec::new();
    let mut problems = Vec::new();
    let mut warning_logged = None;
    let main;
    match &case.fault {
        Fault::SsmAtColdStart(_) => {
            main = 0;
            sent.push(send("faulted", &function, &flashduty, &secrets, rel, &v1).await);
            proxy.set_mode(Mode::Forward).await;
            let recovered = send("SSM back", &function, &flashduty, &secrets, rel, &v1).await;
            if recovered.reply.status != 200 {
                problems.push(format!(
                    "no recovery: once SSM is back the next request must be 200, got {} {}",
                    recovered.reply.status, recovered.reply.raw
                ));
            }
            sent.push(recovered);
        }
        Fault::SsmAtRefresh(mode) => {
            sent.push(send("before", &function, &flashduty, &secrets, rel, &v1).await);
            proxy.set_mode(mode.clone()).await;
            let logs_before = function.logs().len();
            tokio::time::sleep(TTL + Duration::from_millis(300)).await;
            main = sent.len();
            let faulted = send("faulted", &function, &flashduty, &secrets, rel, &v1).await;
            check_rules_version(&faulted, "1", &mut problems);
            sent.push(faulted);
            warning_logged = Some(warning_since(&function, logs_before, None).await);
        }
        Fault::RulesInvalidAtRefresh => {
            sent.push(send("before", &function, &flashduty, &secrets, rel, &v1).await);
            shared.moto.put(&param("rules"), RULES_INVALID, false).await;
            let logs_before = function.logs().len();
            tokio::time::sleep(TTL + Duration::from_millis(300)).await;
            main = sent.len();
            let faulted = send("faulted", &function, &flashduty, &secrets, rel, &v1).await;
            check_rules_version(&faulted, "1", &mut problems);
            sent.push(faulted);
            warning_logged = Some(warning_since(&function, logs_before, Some("rules")).await);
            // Valid rules again: the next refresh (at most the TTL later) applies them.
            shared.moto.put(&param("rules"), RULES_V2, false).await;
            tokio::time::sleep(TTL + Duration::from_millis(300)).await;
            let fixed = send(
                "rules fixed",
                &function,
                &flashduty,
                &secrets,
                rel,
                &rules(Some(RULES_V2)),
            )
            .await;
            check_rules_version(&fixed, "2", &mut problems);
            sent.push(fixed);
        }
        _ => unreachable!("not an SSM case"),
    }
    if warning_logged == Some(false) {
        problems.push(
            "no WARN line \"configuration refresh failed\" (naming the parameter) in the logs"
                .to_owned(),
        );
    }
    flashduty.assert_all_valid();
    drop(function);
    drop(proxy);
    Row {
        case: case.name,
        what: case.what,
        expect: case.expect,
        main,
        sent,
        warning_logged,
        problems,
    }
}

/// A 200 must carry the label of the rules version in effect.
fn check_rules_version(sent: &Sent, version: &str, problems: &mut Vec<String>) {
    if sent.reply.status != 200 {
        return;
    }
    let labels = &sent.reply.body["alerts"][0]["labels"];
    if labels["rules_version"] != version {
        problems.push(format!(
            "{}: expected the rules of version {version} to apply, labels are {labels}",
            sent.label
        ));
    }
}

/// Checks a row against its case; returns what is wrong.
fn verdict(case: &Case, row: &Row) -> Vec<String> {
    let mut problems = row.problems.clone();
    let main = &row.sent[row.main];
    if main.reply.status != case.expect {
        problems.push(format!(
            "expected HTTP {}, got {} {}",
            case.expect, main.reply.status, main.reply.raw
        ));
    }
    let attempts = main.attempts;
    let attempts_ok = match case.attempts {
        Attempts::Exactly(n) => attempts == n,
        Attempts::AtLeast(n) => attempts >= n,
        Attempts::Any => true,
    };
    if !attempts_ok {
        problems.push(format!(
            "expected {:?} delivery attempts, Flashduty saw {attempts}",
            case.attempts
        ));
    }
    for sent in &row.sent {
        if sent.reply.elapsed >= HARBOR_TIMEOUT {
            problems.push(format!(
                "{}: answered after {:?}; Harbor waits 3 s",
                sent.label, sent.reply.elapsed
            ));
        }
        if let Err(why) = &sent.invariant {
            problems.push(format!("{}: invariant broken: {why}", sent.label));
        }
        if sent.reply.header("content-type") != Some("application/json") {
            problems.push(format!("{}: the answer is not JSON", sent.label));
        }
        if !sent.reply.is_success() && sent.reply.body["error"].as_str().is_none_or(str::is_empty) {
            problems.push(format!(
                "{}: an error answer without an error sentence",
                sent.label
            ));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    // Names this test's capture directory from the test thread (tests/support/capture.rs).
    support::capture::test_dir();
    let started = Instant::now();
    let cases = Arc::new(cases());
    let moto = Moto::start().await;
    let addr: SocketAddr = moto
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("moto listens on ip:port");
    let shared = Arc::new(SharedMoto { moto, addr });

    // Two lanes: local-mode cases and SSM cases, each in order, side by side.
    let local = {
        let cases = Arc::clone(&cases);
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for (i, case) in cases.iter().enumerate() {
                if matches!(
                    case.fault,
                    Fault::Flashduty { .. } | Fault::ConnectionRefused
                ) {
                    rows.push((i, run_local(case).await));
                }
            }
            rows
        })
    };
    let ssm = {
        let cases = Arc::clone(&cases);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for (i, case) in cases.iter().enumerate() {
                if !matches!(
                    case.fault,
                    Fault::Flashduty { .. } | Fault::ConnectionRefused
                ) {
                    rows.push((i, run_ssm(case, &shared).await));
                }
            }
            rows
        })
    };
    let lanes = tokio::time::timeout(Duration::from_secs(240), async {
        let mut rows = local.await.expect("local-mode lane");
        rows.extend(ssm.await.expect("SSM lane"));
        rows
    })
    .await
    .expect("the fault matrix did not finish within 240 s");
    let mut rows = lanes;
    rows.sort_by_key(|(i, _)| *i);

    let mut failures = Vec::new();
    let mut table = Vec::new();
    let mut figures = Vec::new();
    let (mut requests, mut lost, mut invariant_broken) = (0, 0, 0);
    for (i, row) in &rows {
        let case = &cases[*i];
        let problems = verdict(case, row);
        let main = &row.sent[row.main];
        requests += row.sent.len();
        for sent in &row.sent {
            // Lost: answered 2xx although an alert that had to be sent was not accepted.
            if sent.reply.is_success() && !sent.keys.is_empty() && !sent.delivered {
                lost += 1;
            }
            if sent.invariant.is_err() {
                invariant_broken += 1;
            }
        }
        table.push(format!(
            "{:<36} {:>4} {:>8.1} ms {:>3} attempt(s) {}",
            row.case,
            main.reply.status,
            report::ms(main.reply.elapsed),
            main.attempts,
            if problems.is_empty() { "ok" } else { "FAIL" }
        ));
        figures.push(json!({
            "case": row.case,
            "fault": row.what,
            "expected_status": row.expect,
            "status": main.reply.status,
            "time_ms": report::ms(main.reply.elapsed),
            "attempts": main.attempts,
            "warning_logged": row.warning_logged,
            "ok": problems.is_empty(),
            "problems": problems,
            "requests": row.sent.iter().map(|s| json!({
                "label": s.label,
                "status": s.reply.status,
                "time_ms": report::ms(s.reply.elapsed),
                "attempts": s.attempts,
                "expected_alerts": s.keys.len(),
                "delivered": s.delivered,
                "invariant_held": s.invariant.is_ok(),
            })).collect::<Vec<Value>>(),
        }));
        for problem in problems {
            failures.push(format!("{}: {problem}", row.case));
        }
    }
    let max_ms = rows
        .iter()
        .flat_map(|(_, row)| row.sent.iter())
        .map(|s| report::ms(s.reply.elapsed))
        .fold(0.0, f64::max);
    let path = report::write(
        "faults",
        &json!({
            "test": "tests/e2e_faults.rs fault_matrix",
            "function": "debug build under cargo lambda watch --only-lambda-apis, loopback",
            "harbor_timeout_ms": HARBOR_TIMEOUT.as_millis() as u64,
            "faults": cases.len(),
            "requests": requests,
            "lost": lost,
            "invariant_broken": invariant_broken,
            "max_time_ms": max_ms,
            "duration_s": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "cases": figures,
        }),
    );
    println!(
        "fault matrix ({} cases, {requests} requests, {:.1} s) -> {}\n{}",
        cases.len(),
        started.elapsed().as_secs_f64(),
        path.display(),
        table.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} problem(s) in the fault matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
