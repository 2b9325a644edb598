#!/usr/bin/env bash
# "Install only what you need", proven: build every package's wheel, then install
# motools-core alone into a fresh venv (no openai, inspect_ai or torch may be importable
# and the CLI must work), then motools-core + motools-openai without inspect-ai.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
uv build --all-packages -q -o "$work/dist"
ls "$work/dist"
cd "$work"  # away from the checkout, whose folders would import as namespace packages
export MOTOOLS_HOME="$work/home" MOTOOLS_CONFIG="$work/config.yaml"

check_absent() {  # venv, modules...
  local venv=$1; shift
  for m in "$@"; do
    if "$venv/bin/python" -c "import $m" 2>/dev/null; then echo "FAIL: $m is importable in $venv"; exit 1; fi
    echo "ok: import $m fails in the $(basename "$venv") venv"
  done
}

echo "== motools-core alone"
uv venv -q -p 3.11 "$work/core"
uv pip install -q -p "$work/core/bin/python" "$work"/dist/motools_core-*.whl
"$work/core/bin/motools" --version
"$work/core/bin/motools" plugins --all
"$work/core/bin/motools" workflow list
check_absent "$work/core" openai inspect_ai torch transformers mozoo motools_openai

echo "== motools-core + motools-openai"
uv venv -q -p 3.11 "$work/openai"
uv pip install -q -p "$work/openai/bin/python" "$work"/dist/motools_core-*.whl "$work"/dist/motools_openai-*.whl
"$work/openai/bin/motools" plugins --json | "$work/openai/bin/python" -c "
import json, sys
names = [p['name'] for p in json.load(sys.stdin)]
assert 'openai' in names, names
print('ok: openai plugin registered:', names)"
"$work/openai/bin/python" -c "
from motools import plugins
assert 'openai' in plugins.training_backends(), plugins.training_backends()
print('ok: training backend openai available')"
check_absent "$work/openai" inspect_ai torch transformers
echo "install-only-what-you-need: OK"
