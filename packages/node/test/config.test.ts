import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultThreadCount, detectNodeIp, loadNodeConfig } from '../src/config/config.js';
import { ConfigError } from '../src/config/env.js';
import { removeTempDirs, tempDir } from './support.js';

afterAll(() => removeTempDirs());

describe('node config', () => {
  it('has the documented defaults', () => {
    const config = loadNodeConfig({});
    expect(config).toMatchObject({
      routerUrl: 'http://127.0.0.1:8080',
      apiKey: null,
      port: 11435,
      bindAddress: '0.0.0.0',
      ip: '127.0.0.1',
      publicUrl: null,
      modelsDir: join(homedir(), '.llm-router/models'),
      heartbeatSecs: 10,
      parallel: 2,
      queueLimit: 64,
      contextSize: 2048,
      allowNoGpu: false,
      logLevel: 'info',
      logDir: join(homedir(), '.llm-router/logs'),
      stateDir: join(homedir(), '.llm-router'),
      bodyLimitBytes: 10 * 1024 * 1024,
    });
    expect(config.threads).toBe(defaultThreadCount());
  });

  it('leaves one core free for the event loop, but always uses at least one thread', () => {
    expect(defaultThreadCount(1)).toBe(1);
    expect(defaultThreadCount(2)).toBe(1);
    expect(defaultThreadCount(16)).toBe(15);
  });

  it('reads every variable', () => {
    const config = loadNodeConfig({
      LLM_ROUTER_URL: 'http://router.example:9000/',
      LLM_NODE_API_KEY: 'sk-key',
      LLM_NODE_PORT: '12000',
      LLM_NODE_BIND_ADDRESS: '127.0.0.1',
      LLM_NODE_IP: '10.1.2.3',
      LLM_NODE_PUBLIC_URL: 'https://node.example',
      LLM_NODE_MODELS_DIR: '/models',
      LLM_NODE_HEARTBEAT_SECS: '2.5',
      LLM_NODE_THREADS: '3',
      LLM_NODE_PARALLEL: '4',
      LLM_NODE_QUEUE_LIMIT: '0',
      LLM_NODE_CONTEXT_SIZE: '4096',
      LLM_ALLOW_NO_GPU: 'yes',
      LLM_NODE_LOG_LEVEL: 'DEBUG',
      LLM_NODE_LOG_DIR: '/logs',
      LLM_NODE_STATE_DIR: '/state',
    });
    expect(config).toMatchObject({
      routerUrl: 'http://router.example:9000',
      apiKey: 'sk-key',
      port: 12000,
      bindAddress: '127.0.0.1',
      ip: '10.1.2.3',
      publicUrl: 'https://node.example',
      modelsDir: '/models',
      heartbeatSecs: 2.5,
      threads: 3,
      parallel: 4,
      queueLimit: 0,
      contextSize: 4096,
      allowNoGpu: true,
      logLevel: 'debug',
      logDir: '/logs',
      stateDir: '/state',
    });
  });

  it('fails naming the variable when a value is invalid', () => {
    const bad: [string, string][] = [
      ['LLM_NODE_PORT', 'eighty'],
      ['LLM_NODE_PORT', '70000'],
      ['LLM_NODE_THREADS', '0'],
      ['LLM_NODE_PARALLEL', '1.5'],
      ['LLM_NODE_HEARTBEAT_SECS', '-1'],
      ['LLM_ALLOW_NO_GPU', 'maybe'],
      ['LLM_NODE_LOG_LEVEL', 'loud'],
      ['LLM_ROUTER_URL', 'router:8080'],
    ];
    for (const [name, value] of bad) {
      expect(() => loadNodeConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadNodeConfig({ [name]: value })).toThrow(name);
    }
  });

  it('accepts the legacy names with a deprecation warning', () => {
    const config = loadNodeConfig({ LLM_MODELS_DIR: '/old-models', LLM_NODE_ALLOW_NO_GPU: '1' });
    expect(config.modelsDir).toBe('/old-models');
    expect(config.allowNoGpu).toBe(true);
    expect(config.warnings).toEqual([
      'LLM_MODELS_DIR is deprecated; use LLM_NODE_MODELS_DIR instead',
      'LLM_NODE_ALLOW_NO_GPU is deprecated; use LLM_ALLOW_NO_GPU instead',
    ]);
  });

  it('reads the LLM_NODE_CONFIG file, with environment variables taking precedence', () => {
    const file = join(tempDir(), 'node.json');
    writeFileSync(
      file,
      JSON.stringify({
        router_url: 'http://10.0.0.1:8080',
        router_api_key: 'file-key',
        models_dir: '/file-models',
        node_port: 12345,
        heartbeat_interval_sec: 5,
        bind_address: '10.0.0.2',
      }),
    );
    const config = loadNodeConfig({ LLM_NODE_CONFIG: file, LLM_NODE_PORT: '12346' });
    expect(config).toMatchObject({
      routerUrl: 'http://10.0.0.1:8080',
      apiKey: 'file-key',
      modelsDir: '/file-models',
      port: 12346,
      heartbeatSecs: 5,
      bindAddress: '10.0.0.2',
      configFile: file,
    });
    writeFileSync(file, JSON.stringify({ node_port: 'x' }));
    expect(() => loadNodeConfig({ LLM_NODE_CONFIG: file })).toThrow(`node_port in ${file}`);
    writeFileSync(file, '{not json');
    expect(() => loadNodeConfig({ LLM_NODE_CONFIG: file })).toThrow('LLM_NODE_CONFIG');
  });

  it('reports loopback to a local router, else the first external IPv4', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '192.168.1.20', family: 'IPv4', internal: false },
      ],
    } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
    expect(detectNodeIp('http://localhost:8080', interfaces)).toBe('127.0.0.1');
    expect(detectNodeIp('http://127.0.0.1:8080', interfaces)).toBe('127.0.0.1');
    expect(detectNodeIp('http://router.lan:8080', interfaces)).toBe('192.168.1.20');
    expect(detectNodeIp('http://router.lan:8080', { lo: interfaces.lo })).toBe('127.0.0.1');
  });
});
