//! The Lambda: wires configuration, the HTTPS client, Flashduty and the handler, then serves.

use harbor_flashduty::config::{ConfigCache, LocalSource, Settings, Source, SsmSource, ssm_client};
use harbor_flashduty::flashduty::{Flashduty, RetryPolicy};
use harbor_flashduty::handler::Handler;
use harbor_flashduty::transport;
use lambda_http::{Error, Request, service_fn};
use std::path::PathBuf;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    harbor_flashduty::logging::init(std::env::var("RUST_LOG").ok().as_deref());
    let env = |name: &str| std::env::var(name).ok();
    let settings = Settings::from_env(env)?;
    let cert_file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let http = transport::https_client(cert_file.as_deref())?;
    let source = match &settings.ssm_prefix {
        Some(prefix) => Source::Ssm(SsmSource::new(
            ssm_client(http.clone(), env),
            prefix.clone(),
            settings.allow_unauthenticated,
        )),
        None => Source::Local(LocalSource::from_env(env, settings.allow_unauthenticated)),
    };
    let flashduty = Flashduty::new(http, RetryPolicy::default());
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
