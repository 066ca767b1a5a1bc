//! Delivery: every converted event's alert to Flashduty, in order, inside the request's
//! deadline, and one [`Outcome`] per event.
//!
//! After the first failure nothing more is sent: the request fails, Harbor retries the whole
//! webhook, and Flashduty discards the repeats of alerts it already took (identical events
//! are deduplicated), so stopping costs nothing and spares a failing Flashduty. The events
//! left are [`Outcome::NotSent`].
//!
//! What one event sends is decided in [`send_event`] alone; the loop only orders events and
//! applies the stop rule, so an event that needs several requests (to several endpoints, at
//! once) changes that one function and the outcome it folds them into.

use crate::config::PushUrl;
use crate::flashduty::{AlertSink, DeliveryError};
use harbor_flashduty_core::alert::Alert;
use harbor_flashduty_core::convert::{Action, Converted};
use std::time::{Duration, Instant};

/// Where alerts go this request.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Nothing is sent (`DRY_RUN`, or local mode without a push URL).
    DryRun,
    /// Flashduty, answering before `deadline`.
    Flashduty {
        push_url: &'a PushUrl,
        deadline: Instant,
    },
}

/// What happened to one Harbor event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Flashduty accepted the alert; `latency` includes any retries.
    Forwarded {
        request_id: Option<String>,
        latency: Duration,
    },
    /// A rule (`by`) dropped the event on purpose.
    Dropped { by: String },
    /// A dry run: the alert (or drop) was decided and nothing was sent.
    DryRun,
    /// Flashduty did not accept the alert; the request fails with this error.
    Failed {
        error: DeliveryError,
        latency: Duration,
    },
    /// Not sent because an earlier event failed.
    NotSent,
}

impl Outcome {
    /// The name logs use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Forwarded { .. } => "forwarded",
            Self::Dropped { .. } => "dropped",
            Self::DryRun => "dry_run",
            Self::Failed { .. } => "failed",
            Self::NotSent => "not_sent",
        }
    }
}

/// An event and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub item: Converted,
    pub outcome: Outcome,
}

/// Delivers `items` in order; the result has one entry per item, in the same order.
pub async fn deliver<S: AlertSink>(
    sink: &S,
    target: Target<'_>,
    items: Vec<Converted>,
) -> Vec<Delivered> {
    let mut delivered = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        let outcome = match (&item.action, target) {
            (_, Target::DryRun) => Outcome::DryRun,
            (Action::Drop { by }, _) => Outcome::Dropped { by: by.clone() },
            (Action::Send(_), _) if failed => Outcome::NotSent,
            (Action::Send(alert), Target::Flashduty { push_url, deadline }) => {
                send_event(sink, push_url, alert, deadline).await
            }
        };
        failed |= matches!(outcome, Outcome::Failed { .. });
        delivered.push(Delivered { item, outcome });
    }
    delivered
}

/// Sends one event's alert and times it.
async fn send_event<S: AlertSink>(
    sink: &S,
    push_url: &PushUrl,
    alert: &Alert,
    deadline: Instant,
) -> Outcome {
    let sent_at = Instant::now();
    let result = sink.send(push_url, alert, deadline).await;
    let latency = sent_at.elapsed();
    match result {
        Ok(accepted) => Outcome::Forwarded {
            request_id: accepted.request_id,
            latency,
        },
        Err(error) => Outcome::Failed { error, latency },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::flashduty::Accepted;
    use harbor_flashduty_core::convert::convert;
    use harbor_flashduty_core::rules::Rules;
    use std::sync::Mutex;

    /// Answers each send from `script` in turn and records the alert keys it was given.
    struct Scripted {
        script: Mutex<Vec<Result<Accepted, DeliveryError>>>,
        sent: Mutex<Vec<String>>,
    }

    impl Scripted {
        fn new(mut script: Vec<Result<Accepted, DeliveryError>>) -> Self {
            script.reverse();
            Self {
                script: Mutex::new(script),
                sent: Mutex::new(Vec::new()),
            }
        }

        fn sent(&self) -> usize {
            self.sent.lock().map_or(0, |s| s.len())
        }
    }

    impl AlertSink for Scripted {
        async fn send(
            &self,
            _url: &PushUrl,
            alert: &Alert,
            _deadline: Instant,
        ) -> Result<Accepted, DeliveryError> {
            if let Ok(mut sent) = self.sent.lock() {
                sent.push(alert.alert_key.clone());
            }
            let next = self.script.lock().ok().and_then(|mut s| s.pop());
            next.unwrap_or(Err(DeliveryError::Unavailable {
                attempts: 0,
                last: "script exhausted".into(),
            }))
        }
    }

    fn ok(id: &str) -> Result<Accepted, DeliveryError> {
        Ok(Accepted {
            request_id: Some(id.into()),
            attempts: 1,
        })
    }

    fn refused() -> DeliveryError {
        DeliveryError::Refused {
            status: 400,
            code: "InvalidParameter".into(),
            message: "no".into(),
            request_id: "r".into(),
        }
    }

    /// One event the built-in rules send (a quota exceeded) and one they drop (a pull).
    pub(crate) fn event(send: bool) -> Converted {
        // Function URL events: the webhook is their `body`.
        let invocation = if send {
            include_str!("../events/default_QUOTA_EXCEED.json")
        } else {
            include_str!("../events/default_PULL_ARTIFACT.json")
        };
        let invocation: serde_json::Value = serde_json::from_str(invocation).unwrap();
        let body = invocation["body"].as_str().unwrap();
        let mut items = convert(body.as_bytes(), None, &Rules::builtin()).unwrap();
        assert_eq!(items.len(), 1);
        let item = items.remove(0);
        assert_eq!(matches!(item.action, Action::Send(_)), send);
        item
    }

    fn url() -> PushUrl {
        PushUrl::parse("https://flashduty.invalid/push?integration_key=k").unwrap()
    }

    fn outcomes(delivered: &[Delivered]) -> Vec<&'static str> {
        delivered.iter().map(|d| d.outcome.as_str()).collect()
    }

    #[tokio::test]
    async fn every_event_gets_one_outcome_and_sending_stops_at_the_first_failure() {
        let items = [true, false, true, false, true].map(event).to_vec();
        let sink = Scripted::new(vec![ok("a"), Err(refused()), ok("never")]);
        let url = url();
        let target = Target::Flashduty {
            push_url: &url,
            deadline: Instant::now() + Duration::from_secs(1),
        };
        let delivered = deliver(&sink, target, items).await;
        assert_eq!(
            outcomes(&delivered),
            ["forwarded", "dropped", "failed", "dropped", "not_sent"]
        );
        assert_eq!(sink.sent(), 2, "nothing is sent after the failure");
        assert!(matches!(
            &delivered[0].outcome,
            Outcome::Forwarded { request_id: Some(id), .. } if id == "a"
        ));
        assert!(matches!(
            &delivered[2].outcome,
            Outcome::Failed { error, .. } if *error == refused()
        ));
    }

    #[tokio::test]
    async fn a_dry_run_sends_nothing() {
        let sink = Scripted::new(vec![]);
        let delivered = deliver(&sink, Target::DryRun, vec![event(true), event(false)]).await;
        assert_eq!(outcomes(&delivered), ["dry_run", "dry_run"]);
        assert_eq!(sink.sent(), 0);
    }
}
