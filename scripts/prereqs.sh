#!/usr/bin/env bash
# Installs what the integration suites need, from nothing, on a Debian machine. Idempotent:
# each step is skipped when its tool is already there. The suites start the servers themselves
# (each on a free 127.0.0.1 port) in their vitest globalSetup.
set -euo pipefail

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "prereqs: installing ${need_apt[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# The Debian package starts a cluster on 5432 on some machines; the tests use their own server.

GOBIN_DIR="$(go env GOPATH)/bin"
if [ ! -x "$GOBIN_DIR/temporal" ] && ! command -v temporal >/dev/null 2>&1; then
  echo "prereqs: building the Temporal CLI v1.5.1 with go install (about 2 minutes)"
  go install github.com/temporalio/cli/cmd/temporal@v1.5.1
fi

# moto: the local AWS services (S3, SQS, SNS, EventBridge, Secrets Manager, IAM) of the tests and
# rehearsals. Pinned: its IAM enforcement is what the rehearsals rely on, and 5.2.6 answers a
# HeadObject of a missing key 403 to a role holding s3:GetObject and s3:ListBucket (5.2.5: 404).
MOTO_VERSION=5.2.5
if [ ! -x .venv-moto/bin/moto_server ] || [ "$(.venv-moto/bin/python -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != "$MOTO_VERSION" ]; then
  echo "prereqs: installing moto[server]==$MOTO_VERSION into .venv-moto"
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install -q "moto[server]==$MOTO_VERSION"
fi
# cfn-lint: lints the synthesized CloudFormation templates (adapter-stepfunctions tests)
if [ ! -x .venv-aws/bin/cfn-lint ]; then
  echo "prereqs: installing cfn-lint into .venv-aws"
  python3 -m venv .venv-aws
  .venv-aws/bin/pip install -q 'cfn-lint==1.58.0'
fi
echo "prereqs: redis-server $(redis-server --version | awk '{print $3}'), temporal at $(command -v temporal || echo "$GOBIN_DIR/temporal"), chromium $(chromium --version 2>/dev/null | awk '{print $2}'), $(.venv-aws/bin/cfn-lint --version)"
