/**
 * The HTTP client for cloud calls: one undici Agent with the three configured timeouts
 * (connect, response headers, silence between body chunks), so no upstream call can hang
 * forever, and an abort signal per call so a departed client stops the upstream work.
 */
import { Agent, request } from 'undici';
import type { CloudConfig } from './config.js';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & { text(): Promise<string>; dump(): Promise<void> };
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(config: Pick<CloudConfig, 'connectTimeoutMs' | 'responseTimeoutMs' | 'idleTimeoutMs'>) {
    this.agent = new Agent({
      connect: { timeout: config.connectTimeoutMs },
      headersTimeout: config.responseTimeoutMs,
      bodyTimeout: config.idleTimeoutMs,
    });
  }

  async send(call: UpstreamRequest): Promise<UpstreamResponse> {
    const response = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: call.signal,
      dispatcher: this.agent,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function headerValue(headers: UpstreamResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
