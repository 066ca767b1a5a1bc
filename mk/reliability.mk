# mk/reliability.mk: reliability and security checks (docs/RELIABILITY.md).
#
# Included by the main Makefile, which defines VENV, BIN, the `venv` and `e2e` targets and the
# `nextest` function, and runs `secrets-scan` after the end-to-end tests in `make test`.
#
#   make secrets-scan          scan everything the e2e tests captured (target/e2e-capture) for
#                              leaked secrets; fails when nothing was captured
#   make hostile               hostile input: in-process (tests/handler/hostile, part of
#                              `make unit`) and over HTTP (tests/e2e/hostile, part of `make e2e`)
#   make reliability           the fault matrix, the bursts, the hostile input and the scan,
#                              then the figures (target/reliability/*.json) as docs/RELIABILITY.md
#   make reliability-report    docs/RELIABILITY.md from the figures of the last run
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGET=handler]
#                              cargo fuzz on the handler (fuzz/, not part of `make test`)

FUZZ_SECONDS ?= 60
FUZZ_TARGET  ?= handler

.PHONY: secrets-scan hostile reliability reliability-report fuzz

secrets-scan:
	python3 scripts/scan_secrets.py --self-test
	python3 scripts/scan_secrets.py

# `make test` runs both halves of the hostile suite already (`unit` and `e2e`); these run only
# the reliability tests of the two test binaries, by module.
hostile: venv
	cargo build --quiet --bins
	$(call nextest,-p harbor-flashduty --test handler --test e2e,hostile)

reliability: venv
	cargo build --quiet --bins
	$(call nextest,-p harbor-flashduty --test e2e --test handler,faults burst hostile)
	python3 scripts/scan_secrets.py
	python3 scripts/reliability_report.py --output docs/RELIABILITY.md

reliability-report:
	python3 scripts/reliability_report.py --output docs/RELIABILITY.md

# cargo-fuzz is installed on first use; nightly gives AddressSanitizer, stable runs without
# a sanitizer (`-s none`). The corpus starts from every fixture (byte 0 = 0x02: a POST with the
# right credential; four empty header fields; the fixture as body). Bounded by FUZZ_SECONDS;
# libFuzzer's output goes to target/reliability/fuzz.log for the report; the function's own
# stdout (a metrics line per alert) is closed (-close_fd_mask=1).
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install --locked --quiet cargo-fuzz
	mkdir -p fuzz/corpus/$(FUZZ_TARGET) target/reliability
	python3 -c 'import pathlib, sys; out = pathlib.Path(sys.argv[1]); [(out / ("seed-" + p.stem)).write_bytes(b"\x02\0\0\0\0" + p.read_bytes()) for p in pathlib.Path("tests/fixtures").glob("*/*.json")]' fuzz/corpus/$(FUZZ_TARGET)
	if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then \
	  cargo +nightly fuzz run $(FUZZ_TARGET) -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -close_fd_mask=1 2>&1 | tee target/reliability/fuzz.log; \
	else \
	  cargo fuzz run -s none $(FUZZ_TARGET) -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -close_fd_mask=1 2>&1 | tee target/reliability/fuzz.log; \
	fi
