#!/usr/bin/env bash
# End-to-end test of the live dashboard (www/): builds what the demo needs
# (scripts/demo.sh --build-only), then runs www/tests/*.test.mjs with
# `node --test`, one file at a time (each starts the demo's own stack:
# scripts/demo.sh --no-build with DEMO_READY_FILE): dashboard.test.mjs with
# 12 devices, fleet.test.mjs with 500 at 2 msg/s each (model.test.mjs
# checks the history and alert logic without a browser). They drive the page
# in headless Chromium through playwright-core (/usr/bin/chromium, never a
# downloaded browser) and save screenshots to target/artifacts/dashboard/
# (dashboard.png, -explorer, -phone, -unreachable, -500, -500-full), and the
# 500-device frame times to frames-500.json there.
#
#   bash scripts/dashboard-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/demo.sh --build-only
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
trap print_timings EXIT
# A test that hangs fails after five minutes (500 devices' startup alone may
# take two) instead of holding the run up.
step "dashboard tests (node --test, Chromium)" node --test --test-reporter=spec --test-concurrency=1 \
    --test-timeout=300000 www/tests/
shots=(target/artifacts/dashboard/*.png)
log "screenshots: ${shots[*]}"
log "frame times with 500 devices: $(tr -d ' \n' <target/artifacts/dashboard/frames-500.json)"
