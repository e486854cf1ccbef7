/** `llm-router --help`: the commands and every environment variable with its default. */
export const ROUTER_ENV_VARS: Array<[name: string, defaultValue: string, description: string]> = [
  ['LLM_ROUTER_HOST', '0.0.0.0', 'Address to listen on (legacy ROUTER_HOST)'],
  ['LLM_ROUTER_PORT', '8080', 'Port to listen on (legacy ROUTER_PORT)'],
  ['LLM_ROUTER_DATA_DIR', '~/.llm-router', 'State directory (database, JWT secret, logs)'],
  [
    'LLM_ROUTER_DATABASE_URL',
    'sqlite:~/.llm-router/router.db',
    'sqlite:PATH or postgres://… (legacy DATABASE_URL)',
  ],
  [
    'LLM_ROUTER_JWT_SECRET',
    'generated, kept in ~/.llm-router/jwt_secret',
    'Secret for dashboard JWTs (legacy JWT_SECRET)',
  ],
  ['LLM_ROUTER_ADMIN_USERNAME', 'admin', 'First-boot admin user name'],
  ['LLM_ROUTER_ADMIN_PASSWORD', 'generated and printed once', 'First-boot admin password'],
  ['LLM_ROUTER_LOG_LEVEL', 'info', 'trace, debug, info, warn, error (legacy RUST_LOG)'],
  ['LLM_ROUTER_LOG_DIR', '~/.llm-router/logs', 'Daily JSON-lines log files (llm-router.jsonl.YYYY-MM-DD)'],
  ['LLM_ROUTER_LOG_RETENTION_DAYS', '7', 'Days of log files to keep'],
  ['LLM_ROUTER_HISTORY_RETENTION_DAYS', '7', 'Days of request history to keep (cleaned hourly)'],
  ['LLM_ROUTER_HEALTH_CHECK_INTERVAL', '30', 'Seconds between checks for silent nodes'],
  ['LLM_ROUTER_NODE_TIMEOUT', '60', 'Seconds without a heartbeat before a node goes offline'],
  [
    'LLM_ROUTER_LOAD_BALANCER_MODE',
    'auto',
    'auto, metrics, round_robin, least_loaded, cache_aware (also LOAD_BALANCER_MODE)',
  ],
  ['LLM_ROUTER_QUEUE_MAX', '100', 'Requests that may wait for a free node at once; beyond it 503 queue_full'],
  ['LLM_ROUTER_QUEUE_TIMEOUT', '60', 'Seconds a request may wait for a free node before 503 queue_timeout'],
  [
    'LLM_ROUTER_REQUESTS_PER_SEQUENCE',
    '2',
    'Requests in progress per context sequence a node reports (its capacity per model)',
  ],
  [
    'LLM_ROUTER_PREFIX_INDEX_MAX_ENTRIES',
    '100000',
    'cache_aware: hard bound on prefix index entries (~200 B each)',
  ],
  [
    'LLM_ROUTER_PREFIX_INDEX_TTL',
    '600',
    'cache_aware: seconds before an unused prefix index entry is dropped',
  ],
  ['LLM_ROUTER_ALLOW_NO_GPU', 'false', 'Accept nodes that report no GPU (CPU-only fleets, tests)'],
  ['LLM_ROUTER_REQUIRE_NODE_APPROVAL', 'false', 'New nodes wait in pending until an admin approves them'],
  ['LLM_ROUTER_MAX_BODY_BYTES', '10485760', 'Largest request body; larger bodies get 413'],
  [
    'LLM_ROUTER_BODY_READ_TIMEOUT',
    '30',
    'Seconds a client may take to send its request body; slower gets 408',
  ],
  ['LLM_ROUTER_CONNECT_TIMEOUT', '5', 'Seconds to connect to a node before failing over'],
  ['LLM_ROUTER_FIRST_BYTE_TIMEOUT', '120', "Seconds to wait for a node's first byte before failing over"],
  ['LLM_ROUTER_IDLE_TIMEOUT', '60', 'Seconds allowed between two chunks of a streamed answer'],
  ['LLM_ROUTER_MAX_ATTEMPTS', '3', 'Nodes one request may try before the router gives up'],
  ['LLM_ROUTER_METRICS_ADDR', '(off)', 'host:port of a second listener serving /metrics without auth'],
  [
    'LLM_ROUTER_DASHBOARD_DIR',
    'packages/router/public',
    'The built dashboard served at /dashboard and /playground',
  ],
  ['LLM_ROUTER_MODELS_DIR', '~/.llm-router/models', 'Router cache of registered models (<data dir>/models)'],
  ['LLM_ROUTER_CONVERT_CONCURRENCY', '2', 'Model cache tasks (downloads, quantization) run at once'],
  ['LLM_ROUTER_MODEL_DOWNLOAD_RETRIES', '5', 'Retries per model file after a transient download error'],
  ['LLM_ROUTER_MODEL_RETRY_BACKOFF_MS', '1000', 'First retry delay for model downloads; doubles per retry'],
  [
    'LLM_ROUTER_MODEL_TASK_LEASE',
    '30',
    "Seconds a replica's lease on a model's download lasts unrenewed (a dead replica's download is taken over within about this)",
  ],
  ['HF_BASE_URL', 'https://huggingface.co', 'Hugging Face hub (or a mirror) for model registration'],
  ['HF_TOKEN', '-', 'Hugging Face token for gated or private repos (legacy HUGGING_FACE_HUB_TOKEN)'],
  ['LLM_QUANTIZE_BIN', '-', "llama.cpp's llama-quantize; needed only to quantize to a label the repo lacks"],
  [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    '(off)',
    'OpenTelemetry collector (OTLP/HTTP JSON): spans go to <endpoint>/v1/traces; see the README for the other OTEL_* variables',
  ],
  ['OTEL_SERVICE_NAME', 'llm-router', 'service.name of the exported spans'],
];

export function routerHelpText(version: string): string {
  const width = Math.max(...ROUTER_ENV_VARS.map(([name]) => name.length));
  const vars = ROUTER_ENV_VARS.map(
    ([name, def, desc]) => `  ${name.padEnd(width)}  ${desc} [default: ${def}]`,
  ).join('\n');
  return `llm-router ${version} - one OpenAI-compatible API in front of a fleet of llama.cpp nodes

Usage:
  llm-router [serve]                         Start the router
  llm-router api-key create --name NAME --scopes SCOPES [--expires-in-days N] [--json]
                                             Create an API key in the database and print it once
                                             (SCOPES: comma list of node:register, api:inference, metrics:read, admin:*)
  llm-router api-key list | api-key revoke ID
  llm-router user list
  llm-router user add NAME (--password P | --password-stdin) [--role admin|viewer]
  llm-router user reset-password NAME (--password P | --password-stdin)
                                             These work on the database directly (for set-up and
                                             recovery); the router need not be running.
  llm-router model register REPO [--format gguf|safetensors] [--filename F] [--quantization Q]
                             [--gguf-policy quality|memory|speed] [--display-name N]
                             [--chat-template-file PATH] [--revision R] [--no-wait] [--json]
  llm-router model list [--json] | model delete ID
                                             These talk to a running router (--router URL, or
                                             LLM_ROUTER_URL, default http://127.0.0.1:8080) with
                                             LLM_ROUTER_API_KEY (admin:*) or LLM_ROUTER_JWT_TOKEN;
                                             register shows the download progress until cached.
  llm-router --help | --version

Environment variables:
${vars}
`;
}
