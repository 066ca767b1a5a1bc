//! The faults, each with the answer and the delivery attempts it must give.

use super::*;

pub(crate) fn cases() -> Vec<Case> {
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
