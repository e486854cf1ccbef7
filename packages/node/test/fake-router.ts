/** A tiny stand-in for the router's node protocol that records what nodes send. */
import type { HeartbeatRequest, RegisterNodeRequest } from '@llm-router/protocol';
import Fastify, { type FastifyInstance } from 'fastify';

export interface RecordedCall<Body> {
  headers: Record<string, string | string[] | undefined>;
  body: Body;
}

export class FakeRouter {
  readonly registrations: RecordedCall<RegisterNodeRequest>[] = [];
  readonly heartbeats: RecordedCall<HeartbeatRequest>[] = [];
  /** Statuses to answer the next heartbeats with (then normal service resumes). */
  readonly heartbeatFaults: { status: number; code: string }[] = [];
  /** How many registrations to refuse with 503 before accepting. */
  failRegistrations = 0;
  private tokens = new Map<string, string>();
  private issued = 0;
  private app: FastifyInstance | null = null;
  port = 0;

  async start(port = 0): Promise<string> {
    // A test double must stop at once, whatever state a node's last connection was left in.
    const app = Fastify({ forceCloseConnections: true });
    app.post('/v0/nodes', async (request, reply) => {
      const body = request.body as RegisterNodeRequest & { node_id: string };
      this.registrations.push({ headers: request.headers, body });
      if (this.failRegistrations > 0) {
        this.failRegistrations--;
        return reply.code(503).send({ error: { message: 'database is busy', code: 'unavailable' } });
      }
      const token = `nt_test_${++this.issued}`;
      this.tokens.set(body.node_id, token);
      return reply.code(201).send({
        node_id: body.node_id,
        status: 'registered',
        node_status: 'pending',
        node_api_port: body.node_api_port,
        node_token: token,
        heartbeat_interval_secs: 10,
        models_version: 3,
      });
    });
    app.post('/v0/health', async (request, reply) => {
      const body = request.body as HeartbeatRequest;
      this.heartbeats.push({ headers: request.headers, body });
      const fault = this.heartbeatFaults.shift();
      if (fault) return reply.code(fault.status).send({ error: { message: 'fault', code: fault.code } });
      const expected = this.tokens.get(body.node_id);
      if (!expected)
        return reply.code(404).send({ error: { message: 'unknown node', code: 'node_not_found' } });
      if (request.headers['x-node-token'] !== expected) {
        return reply.code(401).send({ error: { message: 'Invalid node token', code: 'invalid_node_token' } });
      }
      return { node_status: 'online', models_version: 3 };
    });
    await app.listen({ port, host: '127.0.0.1' });
    const address = app.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.app = app;
    return `http://127.0.0.1:${this.port}`;
  }

  lastToken(): string {
    return `nt_test_${this.issued}`;
  }

  /** Forgets every node, as a router that lost its database would. */
  forgetNodes(): void {
    this.tokens.clear();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }
}

/** A port that was free a moment ago (for "router not started yet" scenarios). */
export async function freePort(): Promise<number> {
  const app = Fastify();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  await app.close();
  return typeof address === 'object' && address ? address.port : 0;
}
