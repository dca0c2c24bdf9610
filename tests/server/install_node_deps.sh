#!/usr/bin/env bash
# Installs the official OpenAI Node.js SDK (npm package `openai`, pinned) into the git-ignored
# tests/data/npm/openai-sdk/ for tests/server/openai_sdk_test.mjs. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=tests/data/npm/openai-sdk
VERSION=4.95.0
if [ -f "$DEST/node_modules/openai/package.json" ] &&
   grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/openai/package.json"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install_node_deps: npm not found" >&2; exit 1; }
mkdir -p "$DEST"
[ -f "$DEST/package.json" ] || echo '{"name":"pagellm-openai-sdk-test","private":true}' > "$DEST/package.json"
npm install --silent --no-audit --no-fund --prefix "$DEST" "openai@$VERSION"
echo "install_node_deps: openai@$VERSION in $DEST"
