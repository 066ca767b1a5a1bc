//! The Lambda: wires configuration, the Flashduty client and the handler, then serves.

use harbor_flashduty::config::{ConfigCache, LocalSource, Settings, Source, SsmSource};
use harbor_flashduty::flashduty::{Flashduty, RetryPolicy};
use harbor_flashduty::handler::Handler;
use lambda_http::{Error, Request, service_fn};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging();
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    let source = match &settings.ssm_prefix {
        Some(prefix) => {
            let sdk = harbor_flashduty::config::load_aws_config().await;
            let ssm = aws_sdk_ssm::Client::new(&sdk);
            Source::Ssm(SsmSource::new(
                ssm,
                prefix.clone(),
                settings.allow_unauthenticated,
            ))
        }
        None => Source::Local(LocalSource::from_env(
            |name| std::env::var(name).ok(),
            settings.allow_unauthenticated,
        )),
    };
    let flashduty = Flashduty::new(RetryPolicy::default())?;
    let handler = Arc::new(Handler::new(
        ConfigCache::new(source, settings.ttl),
        flashduty.clone(),
        settings.dry_run,
    ));

    // Init time is free of the 3 s Harbor waits: load configuration and open the connection now.
    if let Some(push_url) = handler.prefetch().await
        && !settings.dry_run
    {
        flashduty.warm_up(&push_url).await;
    }

    lambda_http::run(service_fn(move |request: Request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, Error>(handler.handle(request).await) }
    }))
    .await
}

/// JSON lines on stdout, level from `RUST_LOG` (default `info`), no ANSI colours.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
}
