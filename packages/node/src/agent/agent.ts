/**
 * Keeps this node known to its router: registers, then heartbeats every interval with real
 * load numbers. It never gives up and never exits the process: while the router is down or
 * refusing, it retries with capped exponential backoff and logs each change of state once.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { loadOrCreateNodeId, saveNodeId } from './node-identity.js';
import { buildHeartbeatBody, buildRegisterBody, type NodeIdentity, type NodeLoad } from './payloads.js';
import { describeRouterError, type RouterClient, type RouterReply } from './router-client.js';

export interface AgentOptions {
  stateDir: string;
  heartbeatMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Called with the router's `models_version` whenever it differs from the last one seen. */
  onModelsVersion?: (version: number) => void;
}

type HeartbeatOutcome = 'ok' | 'reregister' | 'failed';

/** Log fields for a router error (`message` would clash with the log line's own message). */
function routerErrorFields(body: unknown) {
  const { code, message } = describeRouterError(body);
  return { code, error: message };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class NodeAgent {
  nodeId: string | null = null;
  /** The router's model-set version from the last registration or heartbeat reply. */
  modelsVersion: number | null = null;
  nodeStatus: string | null = null;
  private token: string | null = null;
  /** The last token the router issued (kept across restarts), presented when registering again. */
  private proofToken: string | null = null;
  private state = '';
  private failures = 0;
  private readonly stopController = new AbortController();
  private wakeRequested = false;
  private wakeSleeper: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly client: RouterClient,
    private readonly identity: NodeIdentity,
    private readonly readLoad: () => Promise<NodeLoad>,
    private readonly options: AgentOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run().catch((error) =>
      this.log.error({ err: error }, 'node agent stopped unexpectedly'),
    );
  }

  /** Sends a heartbeat now (e.g. a model became ready) instead of at the next interval. */
  wake(): void {
    this.wakeRequested = true;
    this.wakeSleeper?.();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.wakeSleeper?.();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    this.nodeId = await this.loadNodeId();
    while (!this.stopped) {
      if (!this.token && !(await this.register())) {
        await this.sleep(this.backoffMs(), false);
        continue;
      }
      const outcome = await this.heartbeat();
      if (outcome === 'reregister') this.token = null;
      else if (outcome === 'failed') await this.sleep(this.backoffMs(), false);
      else await this.sleep(this.options.heartbeatMs, true);
    }
  }

  private async loadNodeId(): Promise<string> {
    try {
      const { id, created, token } = await loadOrCreateNodeId(this.options.stateDir, this.identity.port);
      this.proofToken = token;
      this.log.info({ nodeId: id, created }, created ? 'created node id' : 'using saved node id');
      return id;
    } catch (error) {
      const id = randomUUID();
      this.log.warn({ err: error, nodeId: id }, 'cannot persist the node id; using a temporary one');
      return id;
    }
  }

  private async register(): Promise<boolean> {
    const nodeId = this.nodeId!;
    const reply = await this.call((signal) =>
      this.readLoad().then((load) =>
        this.client.register(
          buildRegisterBody(nodeId, this.identity, load),
          signal,
          this.token ?? this.proofToken,
        ),
      ),
    );
    if (!reply) return false;
    const body = (reply.body ?? {}) as {
      node_token?: unknown;
      node_id?: unknown;
      status?: unknown;
      models_version?: unknown;
    };
    if (reply.status >= 200 && reply.status < 300 && typeof body.node_token === 'string') {
      this.token = body.node_token;
      this.proofToken = body.node_token;
      this.failures = 0;
      this.noteModelsVersion(body.models_version);
      // The router is the authority on identity; keep its id (and our new token) for the next start.
      if (typeof body.node_id === 'string' && UUID.test(body.node_id)) this.nodeId = body.node_id;
      await saveNodeId(this.options.stateDir, this.identity.port, this.nodeId!, body.node_token).catch(
        () => undefined,
      );
      this.enter('registered', 'info', 'registered with the router', {
        nodeId: this.nodeId,
        status: body.status,
      });
      return true;
    }
    this.enter(`register_rejected:${reply.status}`, 'error', 'the router refused registration; retrying', {
      status: reply.status,
      ...routerErrorFields(reply.body),
    });
    return false;
  }

  private async heartbeat(): Promise<HeartbeatOutcome> {
    this.wakeRequested = false;
    const token = this.token!;
    const reply = await this.call((signal) =>
      this.readLoad().then((load) =>
        this.client.heartbeat(buildHeartbeatBody(this.nodeId!, load), token, signal),
      ),
    );
    if (!reply) return 'failed';
    if (reply.status >= 200 && reply.status < 300) {
      const body = (reply.body ?? {}) as { models_version?: unknown; node_status?: unknown };
      this.noteModelsVersion(body.models_version);
      if (typeof body.node_status === 'string') this.nodeStatus = body.node_status;
      this.failures = 0;
      this.enter('heartbeating', 'info', 'heartbeats accepted by the router', {
        nodeStatus: this.nodeStatus,
      });
      return 'ok';
    }
    const error = describeRouterError(reply.body);
    const fields = routerErrorFields(reply.body);
    const badToken = error.code === 'invalid_node_token' || /invalid node token/i.test(error.message);
    if (reply.status === 404 || (reply.status === 401 && badToken)) {
      this.enter(
        `reregister:${reply.status}`,
        'warn',
        'the router no longer knows this node; registering again',
        { status: reply.status, ...fields },
      );
      return 'reregister';
    }
    this.enter(`heartbeat_rejected:${reply.status}`, 'warn', 'the router refused a heartbeat; retrying', {
      status: reply.status,
      ...fields,
    });
    return 'failed';
  }

  private noteModelsVersion(version: unknown): void {
    if (typeof version !== 'number' || !Number.isFinite(version) || version === this.modelsVersion) return;
    this.modelsVersion = version;
    try {
      this.options.onModelsVersion?.(version);
    } catch (error) {
      this.log.error({ err: error }, 'models_version listener failed');
    }
  }

  /** One router call; network failures become null (and one log line per outage). */
  private async call(send: (signal: AbortSignal) => Promise<RouterReply>): Promise<RouterReply | null> {
    try {
      return await send(this.stopController.signal);
    } catch (error) {
      if (this.stopped) return null;
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      this.enter('router_unreachable', 'warn', 'cannot reach the router; retrying with backoff', { reason });
      return null;
    }
  }

  private backoffMs(): number {
    const { retryInitialMs, retryMaxMs } = this.options;
    const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    // Jitter spreads the retries of many nodes that lost the same router at the same moment.
    return delay * (0.8 + Math.random() * 0.4);
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopped || (wakeable && this.wakeRequested)) return Promise.resolve();
    const signal = this.stopController.signal;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeSleeper = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wakeSleeper = done;
    });
  }

  private enter(state: string, level: 'info' | 'warn' | 'error', message: string, fields: object): void {
    if (state === this.state) return;
    this.state = state;
    this.log[level]({ router: 'agent', ...fields }, message);
  }
}
