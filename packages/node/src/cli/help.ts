/** The `llm-node --help` text: usage and every environment variable with its default. */
export const USAGE = `Usage:
  llm-node                     run the inference node
  llm-node demo-model <path>   write the generated demo model (random weights) to <path>
  llm-node --help | -h         show this help
  llm-node --version | -V      show the version`;

export function helpText(version: string): string {
  return `llm-node ${version}: the LLM Router inference node (llama.cpp via node-llama-cpp)

${USAGE}

Environment variables:
  LLM_ROUTER_URL            router to register with; a comma list of replicas fails over in order
                            (default http://127.0.0.1:8080)
  LLM_NODE_API_KEY          API key with scope node:register; unset = standalone, no registration
  LLM_NODE_PORT             HTTP port (default 11435)
  LLM_NODE_BIND_ADDRESS     address to listen on (default 0.0.0.0)
  LLM_NODE_IP               address reported to the router (default: auto; 127.0.0.1 if the router is local)
  LLM_NODE_PUBLIC_URL       URL the router should call (default http://{LLM_NODE_IP}:{LLM_NODE_PORT})
  LLM_NODE_MODELS_DIR       directory of .gguf models (default ~/.llm-router/models; legacy LLM_MODELS_DIR)
  LLM_NODE_HEARTBEAT_SECS   seconds between heartbeats (default 10)
  LLM_NODE_THREADS          llama.cpp CPU threads (default: CPU cores - 1, at least 1)
  LLM_NODE_PARALLEL         requests one model serves at once (context sequences, default 2)
  LLM_MAX_LOADED_MODELS     most models loaded at once; least recently used ones are unloaded
                            and loaded again on demand (default 0 = no limit)
  LLM_NODE_QUEUE_LIMIT      requests that may wait for a sequence; beyond it 503 (default 64)
  LLM_NODE_CONTEXT_SIZE     tokens per sequence, capped to the model's training context (default 2048)
  LLM_NODE_BODY_LIMIT_BYTES largest request body (default 10485760); larger gets 413
  LLM_NODE_MODEL_RESCAN_SECS how often the models directory is rescanned (default 10; 0 = never)
  LLM_ALLOW_NO_GPU          true = serve on the CPU when no GPU is found (legacy LLM_NODE_ALLOW_NO_GPU)
  LLM_NODE_LOG_LEVEL        trace|debug|info|warn|error|fatal|silent (default info)
  LLM_NODE_LOG_DIR          directory of the daily llm-node.jsonl.YYYY-MM-DD files (default ~/.llm-router/logs)
  LLM_NODE_LOG_RETENTION_DAYS  days of node log files kept (default 7)
  LLM_NODE_STATE_DIR        where the node id is kept, node-<port>.json (default ~/.llm-router)
  LLM_NODE_CONFIG           JSON file with router_url, router_api_key, models_dir, node_port,
                            heartbeat_interval_sec, bind_address (environment variables win)

Model sync (the router's models are fetched into LLM_NODE_MODELS_DIR/<org>/<name>/):
  LLM_DL_CONCURRENCY        files downloaded at once, over all models (default 4)
  LLM_DL_MAX_RETRIES        retries of one file after a failed try, resuming with Range (default 2)
  LLM_DL_BACKOFF_MS         first retry delay in ms, doubling per retry (default 200)
  LLM_DL_CHUNK              bytes read, throttled and written at a time (default 65536, at most 1048576)
  LLM_DL_MAX_BPS            bandwidth cap over all downloads in bytes/s (default 0 = unlimited)
  LLM_DL_TIMEOUT_MS         a download receiving nothing this long is cut and resumed (default 30000)
  LLM_DL_SHARED_PATH        true = serve a model from the router's path in place when it is readable
                            here (shared storage, no copy); false = always download (default true)

Tracing:
  OTEL_EXPORTER_OTLP_ENDPOINT  OpenTelemetry collector (OTLP/HTTP JSON): a span per generation or
                            embeddings request goes to <endpoint>/v1/traces (default off; the README
                            lists the other OTEL_* variables)
  OTEL_SERVICE_NAME         service.name of the exported spans (default llm-node)
`;
}
