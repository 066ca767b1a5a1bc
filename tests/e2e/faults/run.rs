//! Running a case against its own function and stand-in (SSM cases through a proxy to a shared
//! moto), and judging the outcome.

use super::*;
use crate::support::fixtures::fixture;
use crate::support::process::{closed_port, random_hex};
use crate::support::proxy::Proxy;
use crate::support::{FlashdutyStandIn, Function, Secrets};
use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::rules::Rules;

/// The alert keys `body` gives under `rules` (none when a rule drops every event).
pub(crate) fn expected_keys(rel: &str, rules: &Rules) -> Vec<String> {
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

pub(crate) fn rules(json: Option<&str>) -> Rules {
    json.map_or_else(Rules::builtin, |text| {
        Rules::from_json(text).expect("the test's rules are valid")
    })
}

/// Sends `rel` with the right `Authorization` and checks the invariant against the stand-in.
pub(crate) async fn send(
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
pub(crate) async fn warning_since(function: &Function, from: usize, needle: Option<&str>) -> bool {
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

pub(crate) async fn run_local(case: &Case) -> Row {
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
pub(crate) struct SharedMoto {
    pub(crate) moto: Moto,
    pub(crate) addr: SocketAddr,
}

pub(crate) async fn run_ssm(case: &Case, shared: &SharedMoto) -> Row {
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
pub(crate) fn check_rules_version(sent: &Sent, version: &str, problems: &mut Vec<String>) {
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
pub(crate) fn verdict(case: &Case, row: &Row) -> Vec<String> {
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
