/**
 * A node with a fault, as its own process, for end-to-end fault tests: the fake node of the
 * router's proxy tests (`startFakeNode`, one of its faults) registered with a real router and
 * heartbeating through the node's own `RouterClient`, like `llm-node` does. Started by
 * `startFaultNode` in processes.ts (`node --import tsx test/support/fault-node.ts`).
 *
 * Environment: FAULT_ROUTER_URL, FAULT_NODE_KEY, FAULT_PORT, FAULT_MODEL, FAULT_NAME and
 * FAULT_JSON (a `FakeNodeFault`, e.g. `{"kind":"hang"}`).
 * SIGUSR1 stops the heartbeats while the port stays open and keeps answering (heartbeat loss).
 * Every request it receives is printed as `request <n> <path>` on stdout.
 */
import { RouterClient } from '../../packages/node/src/agent/router-client.js';
import { type FakeNodeFault, startFakeNode } from '../../packages/router/test/proxy/helpers/fake-node.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const model = env('FAULT_MODEL');
const port = Number(env('FAULT_PORT'));
const fault = JSON.parse(env('FAULT_JSON')) as FakeNodeFault;
const name = process.env.FAULT_NAME ?? `fault-${fault.kind}`;
const node = await startFakeNode(name, fault, port);
const client = new RouterClient(env('FAULT_ROUTER_URL').split(','), env('FAULT_NODE_KEY'));
const stopping = new AbortController();
const models = [{ id: model, ready: true }];

const registered = await client.register(
  {
    machine_name: name,
    ip_address: '127.0.0.1',
    base_url: node.url,
    runtime_version: 'fault-node',
    runtime_port: port,
    node_api_port: port,
    gpu_available: false,
    gpu_devices: [],
    supported_runtimes: ['llama_cpp'],
    models,
  } as never,
  stopping.signal,
);
if (registered.status !== 201) {
  console.error(`registration failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  process.exit(1);
}
const { node_id: nodeId, node_token: token } = registered.body as { node_id: string; node_token: string };
console.log(`registered ${nodeId} at ${node.url}`);

let beating = true;
const beat = async () => {
  if (!beating) return;
  const body = {
    node_id: nodeId,
    cpu_usage: 1,
    memory_usage: 1,
    active_requests: 0,
    loaded_models: [model],
    models,
    initializing: false,
  };
  await client.heartbeat(body as never, token, stopping.signal).catch(() => {});
};
await beat();
const heartbeats = setInterval(() => void beat(), 1000);
process.on('SIGUSR1', () => {
  beating = false;
  clearInterval(heartbeats);
  console.log('heartbeats stopped');
});

let reported = 0;
const reporter = setInterval(() => {
  for (; reported < node.requests.length; reported++) {
    console.log(`request ${reported + 1} ${node.requests[reported]?.path}`);
  }
}, 50);

process.on('SIGTERM', () => {
  stopping.abort();
  clearInterval(heartbeats);
  clearInterval(reporter);
  void node.close().then(() => process.exit(0));
});
