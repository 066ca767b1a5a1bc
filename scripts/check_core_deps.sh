#!/usr/bin/env bash
# The core crate must stay pure: none of its normal dependencies may do I/O or know Lambda.
set -euo pipefail
tree=$(cargo tree -p harbor-flashduty-core -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
bad=$(grep -E '^(tokio|reqwest|hyper|hyper-util|rustls|aws-.*|lambda_.*|h2|mio|socket2)$' <<<"$tree" || true)
if [[ -n "$bad" ]]; then
  echo "error: harbor-flashduty-core depends on I/O crates: $bad" >&2
  exit 1
fi
echo "harbor-flashduty-core: $(wc -l <<<"$tree") crates, none of tokio/reqwest/hyper/rustls/aws-*/lambda_*"
