# mk/bench.mk: performance benchmarks (not part of `make test`).
#
# Included by the main Makefile, which defines VENV, BIN (= $(VENV)/bin) and a `venv` target
# that installs cargo-lambda (with zig) and moto into it.
#
#   make bench            conversion (criterion), cold start vs a hello-world lambda_http binary,
#                         warm latency, peak RSS, arm64 binary size -> BENCHMARKS.md
#   make bench-quick      the same with shorter runs (a smoke test of the suite, ~1 min less)
#   make bench-profiles   opt-level 3 / "s" / "z": size, cold start, conversion; updates the
#                         table in BENCHMARKS.md (builds 2 extra profiles, host + arm64, ~30 min
#                         the first time, cached in target/opt-*/ afterwards)
#   make bench-report     re-render BENCHMARKS.md from target/bench/*.json
#
# Everything listens on 127.0.0.1 only; every load loop is bounded in count and time.
# Raw results: target/bench/*.json. See scripts/bench.py and benches/lambda.rs.

BENCH_PY ?= $(BIN)/python scripts/bench.py

.PHONY: bench bench-quick bench-profiles bench-report

bench: venv
	$(BENCH_PY)

bench-quick: venv
	$(BENCH_PY) --quick

bench-profiles: venv
	$(BENCH_PY) --profiles

bench-report:
	python3 scripts/bench.py --report
