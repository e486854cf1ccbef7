#!/usr/bin/env bash
# `make start`: runs the router with one local node on this machine's defaults, creates the
# keys they need, and prints where everything is. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR="${LLM_ROUTER_DATA_DIR:-$HOME/.llm-router}"
MODELS_DIR="${LLM_NODE_MODELS_DIR:-$DATA_DIR/models}"
ROUTER_PORT="${LLM_ROUTER_PORT:-8080}"
NODE_PORT="${LLM_NODE_PORT:-11435}"
KEYS_FILE="$DATA_DIR/start-keys.env"
ROUTER_URL="http://127.0.0.1:$ROUTER_PORT"
export LLM_ROUTER_DATA_DIR="$DATA_DIR" LLM_ROUTER_PORT="$ROUTER_PORT"
# The local demo fleet runs on whatever this machine has, GPU or not.
export LLM_ROUTER_ALLOW_NO_GPU="${LLM_ROUTER_ALLOW_NO_GPU:-true}" LLM_ALLOW_NO_GPU="${LLM_ALLOW_NO_GPU:-true}"

# `exec` so that a background job's PID is the process itself, which cleanup can stop.
router() { exec node packages/router/dist/cli.js "$@"; }
llm_node() { exec node packages/node/dist/cli.js "$@"; }

mkdir -p "$DATA_DIR" "$MODELS_DIR"
if ! find "$MODELS_DIR" -name '*.gguf' -print -quit | grep -q .; then
  echo "No models in $MODELS_DIR: writing the generated demo model (random weights, gibberish output)."
  echo "Put any .gguf file in $MODELS_DIR to serve a real model."
  (llm_node demo-model "$MODELS_DIR/demo-random-tiny.gguf")
fi

# Keys are shown only once when created, so make start keeps its own in a private file.
if [ ! -f "$KEYS_FILE" ]; then
  umask 077
  {
    echo "NODE_KEY=$(router api-key create --name 'make start: local node' --scopes node:register)"
    echo "API_KEY=$(router api-key create --name 'make start: API client' --scopes api:inference)"
  } >"$KEYS_FILE"
fi
# shellcheck source=/dev/null
source "$KEYS_FILE"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

(router serve) &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "$ROUTER_URL/health" >/dev/null 2>&1 && break
  sleep 0.2
done

LLM_ROUTER_URL="$ROUTER_URL" LLM_NODE_API_KEY="$NODE_KEY" LLM_NODE_PORT="$NODE_PORT" \
  LLM_NODE_MODELS_DIR="$MODELS_DIR" LLM_NODE_HEARTBEAT_SECS="${LLM_NODE_HEARTBEAT_SECS:-2}" llm_node &
pids+=($!)

model=""
for _ in $(seq 1 150); do
  model=$(curl -fsS -H "Authorization: Bearer $API_KEY" "$ROUTER_URL/v1/models" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const m=JSON.parse(s).data.find(x=>x.ready);if(m)console.log(m.id)}catch{}})') || true
  [ -n "$model" ] && break
  sleep 0.2
done

cat <<INFO

LLM Router is running.
  API:        $ROUTER_URL/v1   (OpenAI-compatible)
  Management: $ROUTER_URL/v0   (admin API; log in with POST /v0/auth/login)
  Node:       http://127.0.0.1:$NODE_PORT  (models in $MODELS_DIR)
  API key:    $API_KEY
  Model:      ${model:-"(none ready yet)"}
  Admin:      the first-boot password is printed above on the first run; keys are kept in $KEYS_FILE

Try it:
  curl $ROUTER_URL/v1/chat/completions -H "Authorization: Bearer $API_KEY" \\
    -H 'Content-Type: application/json' \\
    -d '{"model":"${model:-MODEL}","messages":[{"role":"user","content":"Hello"}],"max_tokens":32}'

Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}"
