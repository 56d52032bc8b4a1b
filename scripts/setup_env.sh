#!/usr/bin/env bash
# Create the virtualenv and install lrcourse into it (editable).  Called by ./course.
#   scripts/setup_env.sh lab    runtime dependencies (JupyterLab and what ./course check needs)
#   scripts/setup_env.sh test   plus the test tools and, when missing, Chromium
#   scripts/setup_env.sh site   runtime dependencies and the website's tools
#   scripts/setup_env.sh --venv         print the virtualenv's folder and exit
#   scripts/setup_env.sh --torch-index  print where torch would come from and exit
# Re-running is cheap: nothing is installed again unless pyproject.toml changed.
#
# The virtualenv is .venv/.  With LRCOURSE_TORCH (say "torch==2.9.0") it is a separate one named
# after it (.venv-torch-2.9.0/), so that trying another torch never touches .venv/.
# LRCOURSE_VENV names another folder.
#
# Where torch comes from: PyTorch's CPU wheel index when it answers within a few seconds (a
# ~190 MB CPU-only wheel), otherwise pip's configured index (PyPI: on Linux a CUDA build, torch
# ~0.9 GB plus ~3 GB of nvidia-* packages).  LRCOURSE_TORCH_INDEX=URL forces an index,
# LRCOURSE_TORCH_INDEX=default the configured one.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-lab}"
TORCH_SPEC="${LRCOURSE_TORCH:-torch==2.13.0}"
CPU_INDEX="https://download.pytorch.org/whl/cpu"

VENV="${LRCOURSE_VENV:-}"
if [ -z "$VENV" ]; then
  VENV=.venv
  # torch==2.9.0 -> .venv-torch-2.9.0
  [ -n "${LRCOURSE_TORCH:-}" ] && VENV=".venv-$(printf %s "$LRCOURSE_TORCH" |
                                          sed -e 's/==/-/g' -e 's/[^A-Za-z0-9._+-]/_/g')"
fi
if [ "$what" = --venv ]; then echo "$VENV"; exit 0; fi

# Is PyTorch's CPU index reachable?  A short timeout, so that where it is not (a firewall, no
# DNS) the fallback costs seconds, not pip's retries.
cpu_index_answers() {
  python3 - "$CPU_INDEX/torch/" <<'EOF'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=5).close()
except Exception as exc:  # DNS failure, timeout, HTTP error, proxy refusal...
    print(f"lrcourse: {sys.argv[1]} does not answer ({type(exc).__name__}: {exc})")
    sys.exit(1)
EOF
}
# The index torch is installed from: a URL, or "default" for pip's configured one.
torch_index() {
  if [ -n "${LRCOURSE_TORCH_INDEX:-}" ]; then echo "$LRCOURSE_TORCH_INDEX"
  elif cpu_index_answers >&2; then echo "$CPU_INDEX"
  else echo default
  fi
}
if [ "$what" = --torch-index ]; then torch_index; exit 0; fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "lrcourse: creating $VENV/ (first run only)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip install --quiet)

if ! "$VENV/bin/python" -c "import importlib.metadata as m; m.version('torch')" 2>/dev/null; then
  index="$(torch_index)"
  if [ "$index" = default ]; then
    echo "lrcourse: installing $TORCH_SPEC from pip's configured index (on Linux, PyPI's" \
         "torch is a CUDA build: 3-4 GB with its nvidia-* packages)"
    "${PIP[@]}" "$TORCH_SPEC"
  else
    echo "lrcourse: installing $TORCH_SPEC from $index"
    "${PIP[@]}" --index-url "$index" "$TORCH_SPEC"
  fi
fi

# A torch older than pyproject.toml's floor would make pip replace it with the newest torch from
# the configured index (on Linux a 3-4 GB CUDA build): refuse, and say what to do instead.
"$VENV/bin/python" - "$VENV" <<'EOF'
import importlib.metadata as metadata, re, sys
floor = re.search(r'"torch>=([0-9.]+)"', open("pyproject.toml", encoding="utf-8").read()).group(1)
have = metadata.version("torch")
def number(version):
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:2])
if number(have) < number(floor):
    sys.exit(f"lrcourse: {sys.argv[1]}/ has torch {have}, older than the course needs "
             f"(torch>={floor}, see the README's 'Which torch'); installing lrcourse would make "
             f"pip replace it with the newest torch it finds. Choose torch {floor} or newer "
             f'(LRCOURSE_TORCH="torch=={floor}.0"), or remove {sys.argv[1]}/ and start again.')
EOF

extras=""; [ "$what" = test ] && extras="[test]"
# ---- site (./course site): the website's pinned tools, the [site] extra ----
[ "$what" = site ] && extras="[site]"
# ---- /site ----
hash="$(sha1sum pyproject.toml | cut -c1-12)"
stamp="$VENV/.lrcourse-$what-$hash"
# The test install includes everything the lab (and the site) install has.
if [ ! -e "$stamp" ] && ! { [ "$what" != test ] && [ -e "$VENV/.lrcourse-test-$hash" ]; }; then
  echo "lrcourse: installing lrcourse$extras (editable) into $VENV/"
  # (without setuptools' notice that a folder named like the package is in the current one)
  PYTHONWARNINGS="ignore:Editable installation" "${PIP[@]}" -e ".$extras"
  if [ "$what" = test ]; then
    # timm, the ground truth for lrcourse.schedules.timm_cosine_lr, WITHOUT its dependencies:
    # they include torchvision, which would bring another (CUDA) torch.  Its scheduler modules
    # need only torch (lrcourse.reference loads them on their own); the tests skip without it.
    "${PIP[@]}" --no-deps "timm==1.0.31" \
      || echo "lrcourse: timm not installed; its optional tests will be skipped" >&2
  fi
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
