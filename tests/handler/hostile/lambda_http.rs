//! Which Function URL events make lambda_http panic while turning them into a `Request`,
//! before the handler runs. The over-HTTP half (`tests/e2e/hostile`) checks that such a request
//! does not take the built function's instance down.

use crate::support::event::FunctionUrlEvent;
use crate::support::hostile::UNPARSEABLE_FORWARDING;
use crate::support::report;
use serde_json::json;

/// Which Function URL events make lambda_http panic while turning them into a `Request`: only
/// the known ones. The list is what a caller might influence (forwarding headers, query
/// string, path) plus a body AWS would never send (bad base64); a new panic fails the test.
#[test]
fn lambda_http_panics_only_on_known_events() {
    let base = |headers: &[(&str, &str)], raw_query: &str, raw_path: &str, body: (&str, bool)| {
        let mut event = FunctionUrlEvent::post()
            .query(raw_query)
            .path(raw_path)
            .raw_body(body.0, body.1);
        for (name, value) in headers {
            event = event.aws_header(name, value);
        }
        event
    };
    let ok_body = ("{}", false);
    let mut cases: Vec<(String, FunctionUrlEvent, bool)> = Vec::new();
    for (name, value) in UNPARSEABLE_FORWARDING {
        cases.push((
            format!("{name}: {value:?}"),
            base(&[(name, value)], "", "/", ok_body),
            true,
        ));
    }
    // An empty Host makes `https:///`, which does not parse either.
    cases.push((
        "host: \"\"".into(),
        base(&[("host", "")], "", "/", ok_body),
        true,
    ));
    for (name, value) in [
        ("x-forwarded-proto", "http"),
        ("x-forwarded-proto", "javascript"),
        ("x-forwarded-proto", "h\u{e9}"),
        ("host", "\u{e9}.example"),
        ("host", "a/b?c#d"),
    ] {
        cases.push((
            format!("{name}: {value:?}"),
            base(&[(name, value)], "", "/", ok_body),
            false,
        ));
    }
    // A raw query string that is not a valid URI query: `http::Request::builder().uri(..)`
    // fails and lambda_http's `.expect("failed to build request")` panics (request.rs:173).
    // HTTP servers refuse such request lines (the emulator's answers 400 to `"`), so only a
    // front end that passes them on could reach this.
    for (query, panics) in [
        ("token=a b", true),
        ("token=\"x\"", true),
        ("token=\u{e9}", false),
        ("a=%zz", false),
        ("token={|}", false),
        ("&&&===", false),
    ] {
        cases.push((
            format!("rawQueryString {query:?}"),
            base(&[], query, "/", ok_body),
            panics,
        ));
    }
    for path in ["/a b", "/\u{e9}", "//x", "/%zz", ""] {
        cases.push((
            format!("rawPath {path:?}"),
            base(&[], "", path, ok_body),
            false,
        ));
    }
    // `Body::from_maybe_encoded(..).expect(..)`: AWS itself encodes the body, so only a broken
    // event, never a caller, can carry invalid base64.
    cases.push((
        "invalid base64 body".into(),
        base(&[], "", "/", ("@@@", true)),
        true,
    ));

    // The panic messages go to the test's captured output (shown only if it fails).
    let mut outcome = Vec::new();
    for (what, event, known) in &cases {
        let panicked = std::panic::catch_unwind(|| {
            let _ = event.to_request();
        })
        .is_err();
        outcome.push((what.clone(), panicked, *known));
    }
    let unknown: Vec<&String> = outcome
        .iter()
        .filter(|(_, panicked, known)| *panicked && !known)
        .map(|(what, _, _)| what)
        .collect();
    let panicking: Vec<&String> = outcome
        .iter()
        .filter(|(_, panicked, _)| *panicked)
        .map(|(what, _, _)| what)
        .collect();
    println!("lambda_http panics converting: {panicking:?}");
    report::write(
        "hostile_lambda_http",
        &json!({"events": outcome.len(), "panicking": panicking, "unexpected": unknown}),
    );
    assert!(
        unknown.is_empty(),
        "lambda_http panics on events not known to make it panic: {unknown:?}"
    );
}
