/**
 * The per-request counters and histograms (request-series.ts) replace prom-client's own on the
 * hot path; a scrape must read exactly what prom-client's would have written for the same
 * updates, bucket bounds (inclusive) and label escaping included.
 */
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestCounter, RequestHistogram } from '../src/observability/request-series.js';

const BOUNDS = [0.005, 0.01, 0.1, 1, 10];
const label = fc.constantFrom('chat', 'embeddings', 'a"b', 'back\\slash', 'new\nline', '');
const value = fc.oneof(fc.constantFrom(...BOUNDS, 0, 100), fc.double({ min: 0, max: 20, noNaN: true }));

describe('request series', () => {
  it('scrape the same as prom-client for the same updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(label, label, value), { maxLength: 50 }), async (updates) => {
        const ours = new Registry();
        const theirs = new Registry();
        const counter = new RequestCounter('t_requests_total', 'Requests.', ['kind', 'model'], ours);
        const histogram = new RequestHistogram('t_seconds', 'Seconds.', ['kind', 'model'], BOUNDS, ours);
        const labelNames = ['kind', 'model'];
        const refCounter = new Counter({
          name: 't_requests_total',
          help: 'Requests.',
          labelNames,
          registers: [theirs],
        });
        const refHistogram = new Histogram({
          name: 't_seconds',
          help: 'Seconds.',
          labelNames,
          buckets: BOUNDS,
          registers: [theirs],
        });
        for (const [kind, model, v] of updates) {
          counter.inc([kind, model], v);
          refCounter.inc({ kind, model }, v);
          histogram.observe([kind, model], v);
          refHistogram.observe({ kind, model }, v);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        ours.resetMetrics();
        theirs.resetMetrics();
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 300 },
    );
  });

  it('skips a figure that is not a finite number instead of poisoning the series', async () => {
    const registry = new Registry();
    const counter = new RequestCounter('t_total', 'T.', ['kind'], registry);
    const histogram = new RequestHistogram('t_seconds', 'T.', ['kind'], BOUNDS, registry);
    counter.inc(['chat'], 2);
    histogram.observe(['chat'], 0.5);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      counter.inc(['chat'], bad);
      histogram.observe(['chat'], bad);
    }
    const text = await registry.metrics();
    expect(text).toContain('t_total{kind="chat"} 2');
    expect(text).toContain('t_seconds_sum{kind="chat"} 0.5');
    expect(text).toContain('t_seconds_count{kind="chat"} 1');
  });
});
