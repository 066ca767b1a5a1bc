//! SPEC §4 checks 1 to 4: the method, the empty Test Endpoint `POST`, the caller's credential
//! (before the body), the size (after the credential).

use super::{Contract, MSR3_TAG_PUSH, QUOTA_EXCEEDED, assert_error, assert_success};
use crate::support::event::{Encoding, FunctionUrlEvent};
use crate::support::fixtures::{fixture, slack_body};
use harbor_flashduty::handler::MAX_BODY;
use serde_json::json;

#[tokio::test]
async fn other_methods_are_405_whatever_else_the_request_carries() {
    let c = Contract::new();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let with_everything = FunctionUrlEvent::new(method)
            .header("authorization", &c.keys.auth)
            .header("content-type", "application/json")
            .body(&fixture(QUOTA_EXCEEDED), Encoding::Text);
        let answered = c.send(with_everything).await;
        assert_error(
            &answered,
            405,
            &format!("{method} with credentials and a payload"),
        );
        let bare = c.send(FunctionUrlEvent::new(method)).await;
        assert_error(&bare, 405, &format!("{method} without credentials or body"));
        let broken = c
            .send(FunctionUrlEvent::new(method).body(b"{oops", Encoding::Text))
            .await;
        assert_error(&broken, 405, &format!("{method} with a broken body"));
    }
    assert!(
        c.sink.calls().is_empty(),
        "nothing is sent for another method"
    );
}

/// Harbor 1.9-2.2's *Test Endpoint* button: an empty `POST` without `Authorization`.
#[tokio::test]
async fn an_empty_post_is_200_with_empty_lists_and_sends_nothing() {
    let c = Contract::new();
    for (what, event) in [
        (
            "without Authorization",
            FunctionUrlEvent::post().header("content-type", "application/json"),
        ),
        ("with the right Authorization", c.authorized(b"")),
        (
            "with a wrong Authorization",
            FunctionUrlEvent::post().header("authorization", "Bearer wrong"),
        ),
    ] {
        let answered = c.send(event).await;
        assert_success(&answered, false, what);
        assert_eq!(
            answered.body["alerts"],
            json!([]),
            "{what}: {}",
            answered.raw
        );
        assert_eq!(
            answered.body["dropped"],
            json!([]),
            "{what}: {}",
            answered.raw
        );
    }
    assert!(c.sink.calls().is_empty(), "the empty POST sends nothing");
}

#[tokio::test]
async fn a_missing_or_wrong_authorization_or_token_is_401() {
    let c = Contract::new();
    let auth = c.keys.auth.clone();
    let token = c.keys.token.clone();
    let body = fixture(QUOTA_EXCEEDED);
    let post = || {
        FunctionUrlEvent::post()
            .header("content-type", "application/json")
            .body(&body, Encoding::Text)
    };
    let cases: Vec<(&str, FunctionUrlEvent)> = vec![
        ("no credential", post()),
        (
            "a wrong Authorization",
            post().header("authorization", "Bearer wrong"),
        ),
        (
            "Authorization with a suffix",
            post().header("authorization", format!("{auth}0")),
        ),
        (
            "a prefix of Authorization",
            post().header("authorization", &auth[..auth.len() - 1]),
        ),
        (
            "Authorization without its scheme",
            post().header("authorization", auth.trim_start_matches("Bearer ")),
        ),
        (
            "Authorization with a lowercase scheme",
            post().header("authorization", auth.replacen("Bearer", "bearer", 1)),
        ),
        ("an empty Authorization", post().header("authorization", "")),
        (
            "the right value in X-Authorization",
            post().header("x-authorization", &auth),
        ),
        (
            "a wrong ?token=",
            post().query_pairs([("token", "contracttokenwrong")]),
        ),
        (
            "a prefix of the token",
            post().query_pairs([("token", &token[..token.len() - 1])]),
        ),
        (
            "the token as ?TOKEN=",
            post().query_pairs([("TOKEN", &token)]),
        ),
        ("an empty ?token=", post().query("token=")),
        (
            "the token in Authorization",
            post().header("authorization", format!("Bearer {token}")),
        ),
    ];
    for (what, event) in cases {
        let answered = c.send(event).await;
        assert_error(&answered, 401, what);
    }
    assert!(
        c.sink.calls().is_empty(),
        "nothing is sent for a refused caller"
    );

    let by_header = c.send(post().header("authorization", &auth)).await;
    assert_success(&by_header, false, "the right Authorization");
    let by_token = c.send(post().query_pairs([("token", &token)])).await;
    assert_success(&by_token, false, "the right ?token=");
    let msr3 = c
        .send(
            FunctionUrlEvent::post()
                .header("content-type", "application/json")
                .query_pairs([("token", &token)])
                .body(&fixture(MSR3_TAG_PUSH), Encoding::Base64),
        )
        .await;
    assert_success(&msr3, false, "MSR 3 with ?token=, base64 body");
    assert_eq!(c.sink.calls().len(), 3, "one alert per accepted request");
}

/// SPEC §4: the credential is checked before the body is parsed, and before its size: a bad
/// body without the right credential is 401, never 400 or 413.
#[tokio::test]
async fn the_credential_is_checked_before_the_body() {
    let c = Contract::new();
    let mut too_big = fixture(QUOTA_EXCEEDED);
    too_big.resize(MAX_BODY + 1, b' ');
    let bodies: [(&str, Vec<u8>); 5] = [
        ("broken JSON", b"{\n  \"type\": PUSH_ARTIFACT\n}".to_vec()),
        ("JSON that is not Harbor's", br#"{"hello": 1}"#.to_vec()),
        ("Harbor's Slack format", slack_body()),
        ("not UTF-8", vec![0xff, 0xfe, 0x00]),
        ("over 1 MiB", too_big),
    ];
    for (what, body) in bodies {
        for (credential, event) in [
            ("no credential", FunctionUrlEvent::post()),
            (
                "a wrong Authorization",
                FunctionUrlEvent::post().header("authorization", "Bearer wrong"),
            ),
            (
                "a wrong ?token=",
                FunctionUrlEvent::post().query_pairs([("token", "wrong")]),
            ),
        ] {
            let event = event
                .header("content-type", "application/json")
                .body(&body, Encoding::Base64);
            let answered = c.send(event).await;
            let context = format!("{what} with {credential}");
            assert_error(&answered, 401, &context);
            let error = answered.error().to_lowercase();
            assert!(
                !error.contains("line") && !error.contains("slack") && !error.contains("mib"),
                "{context}: the 401 says nothing about the body: {}",
                answered.raw
            );
        }
    }
    assert!(c.sink.calls().is_empty());
}

#[tokio::test]
async fn a_body_over_one_mib_is_413_after_authentication() {
    let c = Contract::new();
    let padded = |len: usize| {
        let mut body = fixture(QUOTA_EXCEEDED);
        while body.last().is_some_and(u8::is_ascii_whitespace) {
            body.pop();
        }
        body.resize(len, b' ');
        body
    };
    for encoding in [Encoding::Text, Encoding::Base64] {
        let over = c.authorized(b"").body(&padded(MAX_BODY + 1), encoding);
        let answered = c.send(over).await;
        assert_error(&answered, 413, &format!("1 MiB + 1 byte, {encoding:?}"));
        let by_token = FunctionUrlEvent::post()
            .query_pairs([("token", &c.keys.token)])
            .body(&padded(2 * MAX_BODY), encoding);
        assert_error(&c.send(by_token).await, 413, "2 MiB with the right token");
        assert!(
            c.sink.calls().is_empty(),
            "nothing is sent for a body over 1 MiB"
        );

        let at_limit = c.authorized(b"").body(&padded(MAX_BODY), encoding);
        let answered = c.send(at_limit).await;
        assert_success(&answered, false, &format!("exactly 1 MiB, {encoding:?}"));
        assert_eq!(c.sink.take().len(), 1, "exactly 1 MiB is delivered");
    }
}
