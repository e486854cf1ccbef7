/** The model registry's environment variables: defaults, overrides and clear start-up errors. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRouterConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/env.js';

describe('model registry configuration', () => {
  it('has the documented defaults', () => {
    const config = loadRouterConfig({ LLM_ROUTER_DATA_DIR: '/srv/router' });
    expect(config.models).toEqual({
      dir: join('/srv/router', 'models'),
      concurrency: 2,
      hfBaseUrl: 'https://huggingface.co',
      hfToken: undefined,
      quantizeBin: undefined,
      downloadRetries: 5,
      retryBackoffMs: 1000,
      taskLeaseMs: 30_000,
    });
  });

  it('reads every variable, with HUGGING_FACE_HUB_TOKEN as a deprecated alias', () => {
    const config = loadRouterConfig({
      LLM_ROUTER_MODELS_DIR: '/models',
      LLM_ROUTER_CONVERT_CONCURRENCY: '4',
      HF_BASE_URL: 'http://mirror.local/hf/',
      HUGGING_FACE_HUB_TOKEN: 'hf_x',
      LLM_QUANTIZE_BIN: '/opt/llama.cpp/llama-quantize',
      LLM_ROUTER_MODEL_DOWNLOAD_RETRIES: '0',
      LLM_ROUTER_MODEL_RETRY_BACKOFF_MS: '250',
      LLM_ROUTER_MODEL_TASK_LEASE: '3',
    });
    expect(config.models).toEqual({
      dir: '/models',
      concurrency: 4,
      hfBaseUrl: 'http://mirror.local/hf',
      hfToken: 'hf_x',
      quantizeBin: '/opt/llama.cpp/llama-quantize',
      downloadRetries: 0,
      retryBackoffMs: 250,
      taskLeaseMs: 3000,
    });
    expect(config.warnings).toContain('HUGGING_FACE_HUB_TOKEN is deprecated; use HF_TOKEN instead');
    expect(loadRouterConfig({ HF_TOKEN: 'a', HUGGING_FACE_HUB_TOKEN: 'b' }).models.hfToken).toBe('a');
  });

  it('fails at start with a message naming the variable', () => {
    expect(() => loadRouterConfig({ LLM_ROUTER_CONVERT_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadRouterConfig({ LLM_ROUTER_CONVERT_CONCURRENCY: 'two' })).toThrow(
      /LLM_ROUTER_CONVERT_CONCURRENCY/,
    );
    expect(() => loadRouterConfig({ HF_BASE_URL: 'ftp://hub' })).toThrow(
      /HF_BASE_URL must be an http\(s\) URL/,
    );
    expect(() => loadRouterConfig({ HF_BASE_URL: 'not a url' })).toThrow(/HF_BASE_URL/);
  });
});
