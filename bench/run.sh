#!/usr/bin/env bash
# Installs the comparison tools (wrk from Debian, vegeta from the Go module
# proxy) and runs the side-by-side benchmark. Loopback only.
# Usage: bench/run.sh [runner flags], e.g. bench/run.sh -duration 10s -runs 3 -pin
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
if ! command -v wrk >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi
if ! command -v vegeta >/dev/null; then
	go install github.com/tsenart/vegeta/v12@v12.13.0
fi
exec go run ./bench/runner "$@"
