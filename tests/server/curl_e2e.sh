#!/usr/bin/env bash
# End-to-end with curl against `pagellm serve --fake-engine`. Usage: curl_e2e.sh PAGELLM_BIN
set -euo pipefail
source "$(dirname "$0")/server_lib.sh"
start_server "$1" --api-key k3y --allowed-origins '["http://ok.example"]'
URL=http://127.0.0.1:$PORT
AUTH=(-H "Authorization: Bearer k3y")
fail() { echo "FAIL: $*" >&2; exit 1; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health"); [ "$code" = 200 ] || fail "health $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models"); [ "$code" = 401 ] || fail "no key $code"
# (Outputs go through variables: `curl | grep -q` fails under pipefail when grep exits first.)
models=$(curl -sf "${AUTH[@]}" "$URL/v1/models")
echo "$models" | grep -q '"id":"fake-model"' || fail models

out=$(curl -sf "${AUTH[@]}" "$URL/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model":"fake-model","prompt":"Hello","max_tokens":8}')
echo "$out" | grep -q '"completion_tokens":8' || fail "completion usage: $out"
echo "$out" | grep -q '"total_tokens":14' || fail "completion total: $out"

stream=$(curl -sfN "${AUTH[@]}" "$URL/v1/chat/completions" \
  -d '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}')
first=$(printf '%s\n' "$stream" | head -1)
case "$first" in 'data: {'*'"role":"assistant"'*) ;; *) fail "first chunk: $first" ;; esac
[ "$(printf '%s\n' "$stream" | grep -v '^$' | tail -1)" = "data: [DONE]" ] || fail "no [DONE]"
[ "$(printf '%s\n' "$stream" | grep -c "^data: ")" = 8 ] || fail "chunk count: $stream"  # role, 5 tokens, usage, [DONE]

err=$(curl -s -w ' %{http_code}' "${AUTH[@]}" "$URL/v1/completions" -d '{"prompt":"x","n":"two"}')
case "$err" in *'"type":"BadRequestError"'*' 400') ;; *) fail "bad type: $err" ;; esac
err=$(curl -s -w ' %{http_code}' "${AUTH[@]}" "$URL/v1/completions" -d '{"prompt":"x","model":"nope"}')
case "$err" in *'"code":404'*' 404') ;; *) fail "unknown model: $err" ;; esac

hdr=$(curl -s -D - -o /dev/null -H 'Origin: http://ok.example' "$URL/health")
echo "$hdr" | grep -qi '^access-control-allow-origin: http://ok.example' || fail "cors: $hdr"
hdr=$(curl -s -D - -o /dev/null -H 'Origin: http://evil.example' "$URL/health")
echo "$hdr" | grep -qi '^access-control-allow-origin' && fail "cors leak: $hdr"

metrics=$(curl -sf "$URL/metrics")
grep -q '^vllm:generation_tokens_total{model_name="fake-model"} 13$' <<<"$metrics" || fail metrics
tok=$(curl -sf "$URL/tokenize" -d '{"prompt":"Hi"}')
grep -q '"count":3' <<<"$tok" || fail tokenize

# A streaming request in flight when SIGINT arrives: the server aborts it and exits 0.
curl -sN "${AUTH[@]}" "$URL/v1/completions" -d '{"prompt":"x","max_tokens":1000,"stream":true}' \
  >/dev/null 2>&1 &
sleep 0.3
stop_server INT
echo "curl e2e: OK"
