/**
 * A complete request-history row for tests that write history directly: a successful chat
 * request to model `m1` on no node, with nothing optional filled in, plus `overrides`. One
 * place, so a new history column is added to every such test at once.
 */
import { randomUUID } from 'node:crypto';
import type { HistoryRow } from '../../../src/history/recorder.js';

export function historyRow(overrides: Partial<HistoryRow> = {}): HistoryRow {
  const at = overrides.timestamp ?? Date.now();
  const row: HistoryRow = {
    id: randomUUID(),
    timestamp: at,
    request_type: 'chat',
    model: 'm1',
    node_id: null,
    node_machine_name: null,
    node_ip: null,
    client_ip: '127.0.0.1',
    api_key_id: null,
    stream: 0,
    request_body: null,
    response_body: null,
    duration_ms: 1,
    status: 'success',
    status_code: 200,
    error_message: null,
    prompt_tokens: null,
    completion_tokens: null,
    time_to_first_token_ms: null,
    completed_at: at,
    request_id: null,
    trace_id: null,
    timing_auth_ms: null,
    timing_select_ms: null,
    timing_connect_ms: null,
    timing_ttfb_ms: null,
    cached_tokens: null,
    prefix_match_chars: null,
    node_load: null,
    queue_wait_ms: null,
    failed_attempts: null,
  };
  return Object.assign(row, overrides);
}
