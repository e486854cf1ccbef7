/**
 * Turns a finished `/v1` request into a history row and hands it to the recorder. Called for
 * every request, including those for which no node could be chosen.
 */
import {
  INFERENCE_ENDPOINTS,
  type InferenceKind,
  inferenceEndpointFor,
  type RequestType,
} from '@llm-router/protocol';
import type { FleetView } from '../fleet/types.js';
import { uuidV7 } from '../observability/ids.js';
import { MinuteCounters } from './minute-counters.js';
import type { HistoryRecorder, HistoryRow } from './recorder.js';
import { cappedJson, redactPayloads } from './redact.js';
import { routingColumns } from './routing-record.js';
import type { FinishedRequest } from './types.js';

/** Stored response bodies are capped; the history view needs a sample, not every embedding. */
export const RESPONSE_BODY_CAP_BYTES = 64 * 1024;
const REQUEST_BODY_CAP_BYTES = 256 * 1024;
const TEXT_CAP_CHARS = 2000;

/**
 * Client-supplied text goes into plain columns: NUL bytes are removed (PostgreSQL refuses them
 * in text) and the length is capped, so no request can stall or bloat the history table.
 */
function cleanText(value: string | null | undefined, cap = TEXT_CAP_CHARS): string | null {
  if (value === null || value === undefined) return null;
  const clean = value.replaceAll('\u0000', '');
  return clean.length > cap ? `${clean.slice(0, cap)}…` : clean;
}

/** The request type of each kind's OpenAI endpoint, for records that do not name their own. */
/** Milliseconds to the microsecond: enough for a breakdown, short in the database. */
const roundMs = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : Math.round(ms * 1000) / 1000;

const REQUEST_TYPES = Object.fromEntries(
  INFERENCE_ENDPOINTS.filter((e) => e.format === 'openai').map((e) => [e.kind, e.requestType]),
) as Record<InferenceKind, RequestType>;

/** Errors raised before a `/v1` handler could record the request itself (body parsing, size). */
const PRE_HANDLER_CODES = new Set(['invalid_json', 'request_too_large', 'FST_ERR_CTP_INVALID_MEDIA_TYPE']);

export interface RejectedRequest {
  method: string;
  path: string;
  status: number;
  code: string | undefined;
  message: string;
  durationMs: number;
  clientIp: string;
  apiKeyId: string | null;
}

export class RequestCapture {
  readonly minutes = new MinuteCounters();

  constructor(
    private readonly recorder: HistoryRecorder,
    private readonly fleet: FleetView,
  ) {}

  /**
   * Records an authenticated inference request that was refused before its handler ran (bad
   * JSON, too large, wrong content type), so history still has one row per request.
   */
  recordRejected(rejected: RejectedRequest): void {
    const endpoint = inferenceEndpointFor(rejected.path);
    if (rejected.method !== 'POST' || !endpoint || !PRE_HANDLER_CODES.has(rejected.code ?? '')) return;
    this.record({
      kind: endpoint.kind,
      requestType: endpoint.requestType,
      model: '',
      nodeId: null,
      status: rejected.status,
      success: false,
      errorMessage: rejected.message,
      durationMs: rejected.durationMs,
      streamed: false,
      failedAttempts: [],
      requestBody: null,
      clientIp: rejected.clientIp,
      apiKeyId: rejected.apiKeyId,
    });
  }

  record(finished: FinishedRequest): void {
    const completedAt = Date.now();
    const node = finished.nodeId ? this.fleet.get(finished.nodeId) : undefined;
    const cloudNode = finished.cloudProvider ? `cloud:${finished.cloudProvider}` : null;
    const row: HistoryRow = {
      id: uuidV7(completedAt),
      timestamp: completedAt - Math.round(finished.durationMs),
      request_type: finished.requestType ?? REQUEST_TYPES[finished.kind],
      model: cleanText(finished.model, 512) ?? '',
      node_id: cloudNode ?? finished.nodeId,
      node_machine_name: cloudNode ?? node?.machineName ?? null,
      node_ip: cloudNode ? null : (node?.ipAddress ?? null),
      client_ip: cleanText(finished.clientIp) || null,
      api_key_id: finished.apiKeyId,
      stream: finished.streamed ? 1 : 0,
      request_body: cappedJson(redactPayloads(finished.requestBody), REQUEST_BODY_CAP_BYTES),
      response_body: cappedJson(finished.responseBody, RESPONSE_BODY_CAP_BYTES),
      duration_ms: Math.round(finished.durationMs),
      status: finished.success ? 'success' : 'error',
      status_code: finished.status,
      error_message: cleanText(finished.errorMessage),
      prompt_tokens: finished.promptTokens ?? null,
      completion_tokens: finished.completionTokens ?? null,
      time_to_first_token_ms:
        finished.timeToFirstTokenMs === undefined ? null : Math.round(finished.timeToFirstTokenMs),
      completed_at: completedAt,
      request_id: finished.requestId ?? null,
      trace_id: finished.traceId ?? null,
      timing_auth_ms: roundMs(finished.timing?.authMs),
      timing_select_ms: roundMs(finished.timing?.selectMs),
      timing_connect_ms: roundMs(finished.timing?.connectMs),
      timing_ttfb_ms: roundMs(finished.timing?.ttfbMs),
      ...routingColumns(finished),
      failed_attempts:
        finished.failedAttempts.length === 0
          ? null
          : JSON.stringify(
              finished.failedAttempts.map((a) => ({
                node_id: a.nodeId,
                kind: a.kind,
                message: cleanText(a.message, 1024),
              })),
            ),
    };
    this.recorder.record(row);
    this.minutes.add(finished.success, completedAt);
  }
}
