# mk/deploy.mk: build, deploy and operate harbor-flashduty on AWS.
#
# Included by the main Makefile, which defines VENV, BIN (= $(VENV)/bin), a
# `venv` target that installs cargo-lambda, ziglang, aws-sam-cli and moto
# into it, and exports SAM_CLI_TELEMETRY=0.
#
#   make build                      cargo lambda build (arm64) -> target/lambda/harbor-flashduty/bootstrap
#   make deploy [GUIDED=1]          sam build + sam deploy (--guided the first time)
#   make config PUSH_URL_FILE=... AUTH_HEADER_FILE=... [URL_TOKEN_FILE=...] [RULES_FILE=...]
#   make logs                       follow the function's logs
#   make outputs                    show the stack outputs (WebhookUrl ...)
#   make invoke EVENT=events/default_PUSH_ARTIFACT.json
#                                   send an event to a local `cargo lambda watch`
#   make events / check-events      regenerate / verify events/ from tests/fixtures
#   make lint-template              cfn-lint, sam validate, expanded-template lint, check_template.py
#   make build-check                check-events, then the release build (arm64; x86-64 when the
#                                   aarch64 std cannot be installed) and scripts/check_bootstrap.py
#
# Secrets (PUSH_URL, AUTH_HEADER, URL_TOKEN or their *_FILE variants) reach
# scripts/put_config.py through the environment only; no recipe line contains
# them, so make never prints them.

LAMBDA_BIN       ?= harbor-flashduty
CLI_BIN          ?= harbor-flashduty-cli
LAMBDA_TARGET    ?= aarch64-unknown-linux-gnu
DEPLOY_PY        ?= $(BIN)/python
SAM              ?= $(BIN)/sam
CFN_LINT         ?= $(BIN)/cfn-lint
# cargo-lambda (and the zig it drives, from the ziglang wheel) live in the venv.
VENV_PATH         = PATH="$(abspath $(BIN)):$$PATH"

# Stack name, region and SSM prefix: give them on the command line, or they
# come from samconfig.toml's deploy section (what a guided deploy saved).
HF_SETTING        = $(shell test -x $(DEPLOY_PY) && $(DEPLOY_PY) scripts/put_config.py --get $(1) 2>/dev/null)
HF_STACK          = $(or $(STACK_NAME),$(call HF_SETTING,stack_name),harbor-flashduty)
HF_REGION         = $(or $(REGION),$(call HF_SETTING,region))
HF_REGION_ARG     = $(if $(HF_REGION),--region $(HF_REGION))

# Local `cargo lambda watch` that `make invoke` talks to (toolchain.md §4).
INVOKE_ADDRESS   ?= 127.0.0.1
INVOKE_PORT      ?= 9000
EVENT            ?= events/default_PUSH_ARTIFACT.json

TRANSFORMED_TEMPLATE ?= .aws-sam/template.transformed.json

.PHONY: build deploy config logs outputs invoke events check-events lint-template \
        build-check hf-tools hf-rust-target

hf-tools:
	@test -x $(BIN)/cargo-lambda -a -x $(SAM) -a -x $(CFN_LINT) || $(MAKE) --no-print-directory venv

# cargo-lambda would add the target itself; doing it first gives a clear error
# when rustup cannot reach its download server.
hf-rust-target:
	@if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -x '$(LAMBDA_TARGET)' >/dev/null; then \
	  echo "rustup target add $(LAMBDA_TARGET)"; \
	  rustup target add $(LAMBDA_TARGET) || { \
	    echo "error: cannot install the $(LAMBDA_TARGET) standard library (rustup offline?)." >&2; \
	    echo "       arm64 needs it; see toolchain.md §3 for the x86_64 fallback." >&2; exit 1; }; \
	fi

build: hf-tools hf-rust-target
	$(VENV_PATH) cargo lambda build --release --arm64 --bin $(LAMBDA_BIN)
	@ls -l "$${CARGO_TARGET_DIR:-target}/lambda/$(LAMBDA_BIN)/bootstrap"

# First deploy (the stack does not exist yet) or GUIDED=1: `sam deploy --guided`,
# which asks for each parameter and offers to save the answers in samconfig.toml.
# GUIDED=0 forces a plain deploy. Extra sam flags: SAM_DEPLOY_ARGS='...'.
deploy: hf-tools hf-rust-target
	$(VENV_PATH) $(SAM) build
	@guided='$(GUIDED)'; \
	if [ -z "$$guided" ]; then \
	  status=$$($(DEPLOY_PY) scripts/put_config.py --stack-status --stack-name '$(HF_STACK)' $(HF_REGION_ARG)) || exit 1; \
	  if [ -z "$$status" ]; then echo "stack $(HF_STACK) does not exist yet: guided deploy"; guided=1; else guided=0; fi; \
	fi; \
	if [ "$$guided" = 1 ]; then \
	  echo "$(SAM) deploy --guided $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(HF_REGION_ARG) $(SAM_DEPLOY_ARGS)"; \
	  $(SAM) deploy --guided $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(HF_REGION_ARG) $(SAM_DEPLOY_ARGS); \
	else \
	  echo "$(SAM) deploy $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(HF_REGION_ARG) $(SAM_DEPLOY_ARGS)"; \
	  $(SAM) deploy $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(HF_REGION_ARG) $(SAM_DEPLOY_ARGS); \
	fi

# Puts the values given (see scripts/put_config.py) as SecureStrings under
# SSM_PREFIX (default: SsmPrefix from samconfig.toml, else /harbor-flashduty).
# Rules are checked with the offline CLI before anything is written.
config: hf-tools
	@if [ -n '$(RULES_FILE)' ]; then \
	  echo "cargo run --quiet --bin $(CLI_BIN) -- check-rules $(RULES_FILE)"; \
	  cargo run --quiet --bin $(CLI_BIN) -- check-rules '$(RULES_FILE)' || { \
	    echo "error: $(RULES_FILE) has problems (above); nothing was written to SSM." >&2; exit 1; }; \
	fi
	@$(DEPLOY_PY) scripts/put_config.py --stack-name '$(HF_STACK)' $(if $(SSM_PREFIX),--prefix '$(SSM_PREFIX)') $(HF_REGION_ARG)

logs: hf-tools
	$(SAM) logs --stack-name $(HF_STACK) $(HF_REGION_ARG) --tail

outputs: hf-tools
	$(SAM) list stack-outputs --stack-name $(HF_STACK) $(HF_REGION_ARG) --output table

# Needs the function running locally, e.g.
#   cargo lambda watch -A 127.0.0.1 -P 9000 \
#     --env-var "HARBOR_AUTH_HEADER=Bearer harbor-flashduty-demo" --env-var URL_TOKEN=msr3-demo-token
# (no FLASHDUTY_PUSH_URL: a dry run, nothing is sent).
invoke: hf-tools
	@test -f '$(EVENT)' || { echo "error: EVENT=$(EVENT) does not exist (make events; ls events/)" >&2; exit 1; }
	$(VENV_PATH) cargo lambda invoke $(LAMBDA_BIN) --invoke-address $(INVOKE_ADDRESS) --invoke-port $(INVOKE_PORT) --data-file '$(EVENT)' \
	  || { echo "error: is \`cargo lambda watch -A $(INVOKE_ADDRESS) -P $(INVOKE_PORT)\` running?" >&2; exit 1; }

events:
	python3 scripts/make_events.py

check-events:
	python3 scripts/make_events.py --check

lint-template: hf-tools
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate
	@mkdir -p $(dir $(TRANSFORMED_TEMPLATE))
	$(DEPLOY_PY) scripts/sam2cfn.py template.yaml > $(TRANSFORMED_TEMPLATE)
	$(CFN_LINT) $(TRANSFORMED_TEMPLATE)
	$(DEPLOY_PY) scripts/check_template.py

# Part of `make test`: events/ is up to date, then one cold release build of the Lambda artifact
# (~5 min on 2 cores; nothing else in `make test` builds it) and a check of its ELF header
# (scripts/check_bootstrap.py: 64-bit, aarch64, glibc loader, glibc <= AL2023's).
# When the aarch64 standard library cannot be installed (rustup's server unreachable) it builds
# and checks x86-64 instead and says so; that is not a failure here (toolchain.md §3).
build-check: hf-tools check-events
	@arch=arm64; \
	if command -v rustup >/dev/null 2>&1; then \
	  if ! rustup target list --installed | grep -x '$(LAMBDA_TARGET)' >/dev/null; then \
	    echo "rustup target add $(LAMBDA_TARGET)"; \
	    rustup target add $(LAMBDA_TARGET) || arch=x86-64; \
	  fi; \
	elif [ ! -d "$$(rustc --print sysroot)/lib/rustlib/$(LAMBDA_TARGET)" ]; then \
	  arch=x86-64; \
	fi; \
	if [ "$$arch" = x86-64 ]; then \
	  echo "NOTE: the $(LAMBDA_TARGET) standard library is not installed and cannot be (rustup offline?)."; \
	  echo "NOTE: building and checking an x86-64 bootstrap INSTEAD of arm64: the template's arm64 artifact is not checked by this run."; \
	fi; \
	echo "cargo lambda build --release --$$arch --bin $(LAMBDA_BIN)"; \
	start=$$(date +%s); \
	$(VENV_PATH) cargo lambda build --release --$$arch --bin $(LAMBDA_BIN); \
	echo "cargo lambda build: $$(( $$(date +%s) - start )) s"; \
	$(DEPLOY_PY) scripts/check_bootstrap.py --arch $$arch
