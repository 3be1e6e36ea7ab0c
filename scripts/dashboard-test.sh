#!/usr/bin/env bash
# End-to-end test of the live dashboard (www/): builds what the demo needs
# (scripts/demo.sh --build-only), then runs www/tests/*.test.mjs with
# `node --test`. The tests start the demo's own stack (scripts/demo.sh
# --no-build with DEMO_READY_FILE), drive the page in headless Chromium
# through playwright-core (/usr/bin/chromium, never a downloaded browser)
# and save screenshots to target/artifacts/ (dashboard.png,
# dashboard-unreachable.png).
#
#   bash scripts/dashboard-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/demo.sh --build-only
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
trap print_timings EXIT
# A test that hangs fails after three minutes (the stack's startup alone may
# take 90 s) instead of holding the run up.
step "dashboard tests (node --test, Chromium)" node --test --test-reporter=spec --test-timeout=180000 www/tests/
shots=(target/artifacts/dashboard*.png)
log "screenshots: ${shots[*]}"
