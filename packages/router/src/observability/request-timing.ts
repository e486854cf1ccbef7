/**
 * Where one `/v1` request's time went, measured once and reported three ways: the
 * `Server-Timing` response header (so a client sees it), request history (so an operator can
 * look it up later) and the router-overhead metric. Phases:
 *   auth    authentication and the scope check
 *   select  choosing a node (all attempts together)
 *   connect from sending the backend request to its response head (the last attempt)
 *   ttfb    from the request's arrival to the backend's first body byte
 *   total   from the request's arrival to the moment the response head is written
 * For a stream the head goes out with the first chunk, so `total` there ends at the first
 * chunk; history records the stream's full duration.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set on `/v1` inference routes by their first onRequest hook. */
    timing?: RequestTiming;
  }
}

export interface TimingBreakdown {
  authMs: number | null;
  selectMs: number | null;
  connectMs: number | null;
  ttfbMs: number | null;
}

const dur = (name: string, ms: number) => `${name};dur=${ms.toFixed(3)}`;

export class RequestTiming {
  readonly startedAt = performance.now();
  authMs: number | null = null;
  selectMs: number | null = null;
  connectMs: number | null = null;
  ttfbMs: number | null = null;
  /** Time spent waiting on backends, all attempts (request sent to last byte received). */
  upstreamMs = 0;

  markAuthenticated(): void {
    this.authMs = performance.now() - this.startedAt;
  }

  addSelect(ms: number): void {
    this.selectMs = (this.selectMs ?? 0) + ms;
  }

  /** The `Server-Timing` header value as of now. */
  header(): string {
    const parts: string[] = [];
    if (this.authMs !== null) parts.push(dur('auth', this.authMs));
    if (this.selectMs !== null) parts.push(dur('select', this.selectMs));
    if (this.connectMs !== null) parts.push(dur('connect', this.connectMs));
    if (this.ttfbMs !== null) parts.push(dur('ttfb', this.ttfbMs));
    parts.push(dur('total', performance.now() - this.startedAt));
    return parts.join(', ');
  }

  breakdown(): TimingBreakdown {
    return { authMs: this.authMs, selectMs: this.selectMs, connectMs: this.connectMs, ttfbMs: this.ttfbMs };
  }
}
