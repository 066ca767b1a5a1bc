//! Log output: JSON lines on stdout (Lambda's JSON log format), no ANSI colours.
//!
//! `RUST_LOG` is one level (`error` ... `trace`, default `info`); per-module directives would
//! need tracing-subscriber's env-filter, which costs ~0.3 MB of binary for nothing this
//! function logs.

use tracing::level_filters::LevelFilter;

/// Installs the subscriber; `level` is `RUST_LOG`, if set.
pub fn init(level: Option<&str>) {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_max_level(parse_level(level))
        .init();
}

/// An unparsable or missing level is `info`.
fn parse_level(level: Option<&str>) -> LevelFilter {
    level
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_level_is_read_and_anything_else_means_info() {
        assert_eq!(parse_level(Some("warn")), LevelFilter::WARN);
        assert_eq!(parse_level(Some(" DEBUG ")), LevelFilter::DEBUG);
        assert_eq!(parse_level(Some("off")), LevelFilter::OFF);
        assert_eq!(
            parse_level(Some("harbor_flashduty=debug")),
            LevelFilter::INFO
        );
        assert_eq!(parse_level(None), LevelFilter::INFO);
    }
}
