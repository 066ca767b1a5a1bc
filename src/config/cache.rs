//! The configuration cache: one load per `CONFIG_TTL_SECONDS`, and a failed or slow refresh
//! never takes the last good configuration away.

use super::{Config, ConfigError, ConfigSource};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Reuses loaded configuration for the TTL. A failed refresh keeps the last good configuration
/// (and is retried after a short pause, so a dead SSM does not slow every request).
pub struct ConfigCache<S> {
    source: S,
    ttl: Duration,
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    config: Option<Arc<Config>>,
    next_refresh: Option<Instant>,
}

/// After a failed refresh, wait this long (at most the TTL) before asking SSM again.
const RETRY_FAILED_REFRESH: Duration = Duration::from_secs(30);
/// With a last good configuration in hand, a refresh may take this long before the request
/// goes on without it: a slow SSM must not eat the time Flashduty needs.
const REFRESH_WAIT: Duration = Duration::from_millis(700);

impl<S: ConfigSource> ConfigCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            state: Mutex::new(CacheState::default()),
        }
    }

    pub async fn get(&self) -> Result<Arc<Config>, ConfigError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let (Some(config), Some(next)) = (&state.config, state.next_refresh)
            && now < next
        {
            return Ok(Arc::clone(config));
        }
        let loaded = match &state.config {
            None => self.source.load().await,
            Some(_) => tokio::time::timeout(REFRESH_WAIT, self.source.load())
                .await
                .unwrap_or(Err(ConfigError::Slow {
                    waited: REFRESH_WAIT,
                })),
        };
        match loaded {
            Ok(config) => {
                let config = Arc::new(config);
                state.config = Some(Arc::clone(&config));
                state.next_refresh = Some(now + self.ttl);
                Ok(config)
            }
            Err(error) => match state.config.clone() {
                Some(last_good) => {
                    tracing::warn!(
                        error = %error,
                        "configuration refresh failed; keeping the last good configuration"
                    );
                    state.next_refresh = Some(now + self.ttl.min(RETRY_FAILED_REFRESH));
                    Ok(last_good)
                }
                None => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, Config};
    use harbor_flashduty_core::rules::Rules;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn config() -> Config {
        Config {
            push_url: None,
            auth: Auth {
                header: None,
                url_token: None,
                open: true,
            },
            rules: Rules::builtin(),
        }
    }

    fn down() -> ConfigError {
        ConfigError::Unreachable {
            prefix: "/p".into(),
            reason: "connection refused".into(),
        }
    }

    /// Answers from `answers` in turn (the last one forever), and hangs on calls listed in
    /// `hang_from` onwards.
    struct Scripted {
        answers: Vec<Result<(), ConfigError>>,
        hang_from: Option<usize>,
        calls: AtomicUsize,
    }

    impl Scripted {
        fn new(answers: Vec<Result<(), ConfigError>>, hang_from: Option<usize>) -> Self {
            Self {
                answers,
                hang_from,
                calls: AtomicUsize::new(0),
            }
        }
    }

    impl ConfigSource for Scripted {
        async fn load(&self) -> Result<Config, ConfigError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.hang_from.is_some_and(|from| call >= from) {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            let answer = self.answers.get(call).or(self.answers.last());
            match answer {
                Some(Ok(())) | None => Ok(config()),
                Some(Err(e)) => Err(e.clone()),
            }
        }
    }

    #[tokio::test]
    async fn a_hanging_refresh_does_not_hold_the_request() {
        let cache = ConfigCache::new(Scripted::new(vec![Ok(())], Some(1)), Duration::ZERO);
        assert!(cache.get().await.is_ok());
        let started = Instant::now();
        assert!(
            cache.get().await.is_ok(),
            "last good configuration is served"
        );
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(2),
            "waited {waited:?} for a hanging SSM"
        );
    }

    #[tokio::test]
    async fn cache_reuses_and_survives_a_failed_refresh() {
        let cache = ConfigCache::new(
            Scripted::new(vec![Ok(()), Err(down())], None),
            Duration::ZERO,
        );
        assert!(cache.get().await.is_ok());
        assert!(cache.get().await.is_ok(), "last good configuration is kept");
        assert_eq!(cache.source.calls.load(Ordering::SeqCst), 2);

        let reused = ConfigCache::new(Scripted::new(vec![Ok(())], None), Duration::from_secs(60));
        assert!(reused.get().await.is_ok());
        assert!(reused.get().await.is_ok());
        assert_eq!(
            reused.source.calls.load(Ordering::SeqCst),
            1,
            "within the TTL"
        );

        let fresh = ConfigCache::new(
            Scripted::new(vec![Err(down())], None),
            Duration::from_secs(60),
        );
        assert_eq!(fresh.get().await.unwrap_err(), down());
    }
}
