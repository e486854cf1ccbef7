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
router() { exec node packages/router/dist/llm-router.js "$@"; }
llm_node() { exec node packages/node/dist/cli.js "$@"; }

HF_URL="${HF_BASE_URL:-https://huggingface.co}"
# A small real model fetched through the model registry when the folder starts empty.
REAL_MODEL_REPO="${LLM_START_MODEL_REPO:-ggml-org/tiny-llamas}"
REAL_MODEL_FILE="${LLM_START_MODEL_FILE:-stories260K.gguf}"

mkdir -p "$DATA_DIR" "$MODELS_DIR"
fetch_real_model=false
if ! find "$MODELS_DIR" -name '*.gguf' -print -quit | grep -q .; then
  echo "No models in $MODELS_DIR: writing the generated demo model (random weights, gibberish output)."
  echo "Put any .gguf file in $MODELS_DIR to serve a real model."
  (llm_node demo-model "$MODELS_DIR/demo-random-tiny.gguf")
  fetch_real_model=true
fi

# Keys are shown only once when created, so make start keeps its own in a private file.
if [ ! -f "$KEYS_FILE" ]; then
  umask 077
  {
    echo "NODE_KEY=$(router api-key create --name 'make start: local node' --scopes node:register)"
    echo "API_KEY=$(router api-key create --name 'make start: API client' --scopes api:inference)"
    echo "ADMIN_KEY=$(router api-key create --name 'make start: model registration' --scopes 'admin:*')"
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

if [ "$fetch_real_model" = true ]; then
  if curl -fsS -m 5 -o /dev/null "$HF_URL/api/models/$REAL_MODEL_REPO" 2>/dev/null; then
    wanted_model="$REAL_MODEL_REPO"
    echo "Registering $REAL_MODEL_REPO ($REAL_MODEL_FILE) from $HF_URL: the node pulls it once the router has cached it."
    LLM_ROUTER_URL="$ROUTER_URL" LLM_ROUTER_API_KEY="$ADMIN_KEY" \
      node packages/router/dist/llm-router.js model register "$REAL_MODEL_REPO" --filename "$REAL_MODEL_FILE" >/dev/null || {
      echo "Registering $REAL_MODEL_REPO failed; serving the generated demo model only."
      wanted_model=""
    }
  else
    echo "Hugging Face ($HF_URL) is not reachable: serving the generated demo model only."
  fi
fi

LLM_ROUTER_URL="$ROUTER_URL" LLM_NODE_API_KEY="$NODE_KEY" LLM_NODE_PORT="$NODE_PORT" \
  LLM_NODE_MODELS_DIR="$MODELS_DIR" LLM_NODE_HEARTBEAT_SECS="${LLM_NODE_HEARTBEAT_SECS:-2}" llm_node &
pids+=($!)

# Wait until a model is ready to chat with: the registered real model if there is one.
model=""
for _ in $(seq 1 300); do
  model=$(curl -fsS -H "Authorization: Bearer $API_KEY" "$ROUTER_URL/v1/models" 2>/dev/null |
    WANTED="${wanted_model:-}" node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const ready=JSON.parse(s).data.filter(x=>x.ready&&x.nodes.length>0);const m=process.env.WANTED?ready.find(x=>x.id===process.env.WANTED):ready[0];if(m)console.log(m.id)}catch{}})') || true
  [ -n "$model" ] && break
  sleep 0.2
done
if [ -z "$model" ] && [ -n "${wanted_model:-}" ]; then
  echo "$wanted_model is not ready yet; it will be served as soon as the node has pulled it."
  model=$(curl -fsS -H "Authorization: Bearer $API_KEY" "$ROUTER_URL/v1/models" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const m=JSON.parse(s).data.find(x=>x.ready&&x.nodes.length>0);if(m)console.log(m.id)}catch{}})') || true
fi

cat <<INFO

LLM Router is running.
  Dashboard:  $ROUTER_URL/dashboard   (sign in as admin; chat at $ROUTER_URL/playground)
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
