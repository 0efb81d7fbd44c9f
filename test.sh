#!/usr/bin/env bash
# The one test command: installs what the tests need when it is missing,
# then vets and runs every test with the race detector. CI (.ci/run) runs
# exactly this; so does .ci/stress, with CPU hogs beside it.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

command -v go >/dev/null || { echo "test.sh: Go is not installed (expected /usr/local/go/bin/go)" >&2; exit 1; }

# Debian packages the tests use: chromium for the browser end-to-end tests
# of the HTML report and the live dashboard, nginx for the HTTP client
# tests against a production server, gunicorn (sync workers: a known
# concurrency ceiling) for the concurrency-ceiling test, prometheus (a real
# server with its own /metrics) for the server-signal test.
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v gunicorn >/dev/null || need+=(gunicorn)
command -v prometheus >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
	echo "test.sh: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
fi
go version
go mod download

go vet ./...
go test -race ./...
# Allocation counts are meaningless under the race detector: the tests that
# assert them are built without it (//go:build !race) and run here.
go test -run 'Allocs$' ./...
