#!/usr/bin/env bash
# Create .venv/ and install lrcourse into it (editable).  Called by ./course.
#   scripts/setup_env.sh lab    runtime dependencies
#   scripts/setup_env.sh test   plus the test tools and, when missing, Chromium
# Re-running is cheap: nothing is installed again unless pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-lab}"
TORCH_SPEC="${LRCOURSE_TORCH:-torch==2.13.0}"

if [ ! -x .venv/bin/python ]; then
  echo "lrcourse: creating .venv/ (first run only)"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
PIP=(.venv/bin/python -m pip install --quiet)

if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "lrcourse: installing $TORCH_SPEC"
  if [ -n "${LRCOURSE_TORCH_INDEX:-}" ]; then
    "${PIP[@]}" --extra-index-url "$LRCOURSE_TORCH_INDEX" "$TORCH_SPEC"
  else
    "${PIP[@]}" "$TORCH_SPEC"
  fi
fi

extras=""; [ "$what" = test ] && extras="[test]"
hash="$(sha1sum pyproject.toml | cut -c1-12)"
stamp=".venv/.lrcourse-$what-$hash"
# The test install includes everything the lab install has.
if [ ! -e "$stamp" ] && ! { [ "$what" = lab ] && [ -e ".venv/.lrcourse-test-$hash" ]; }; then
  echo "lrcourse: installing lrcourse$extras (editable)"
  "${PIP[@]}" -e ".$extras"
  touch "$stamp"
fi

if [ "$what" = test ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "lrcourse: installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "lrcourse: /usr/bin/chromium is missing and cannot be installed here;" \
         "the browser tests will be skipped (apt-get install chromium)." >&2
  fi
fi

if [ "$what" = test ] && ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "lrcourse: installing Debian's bubblewrap for the grading sandbox"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "lrcourse: bwrap (bubblewrap) is missing and cannot be installed here;" \
         "the sandboxed grading tests will be skipped (apt-get install bubblewrap)." >&2
  fi
fi
