/** Formatting helpers every view uses. */
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
  relativeTime,
  successRate,
} from '../src/lib/format';

describe('formatting', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(1_100_000)).toBe('1.0 MB');
    expect(formatBytes(250 * 1024 ** 3)).toBe('250 GB');
    expect(formatBytes(null)).toBe('—');
  });

  it('formats durations from milliseconds to days', () => {
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(1500)).toBe('1.50 s');
    expect(formatDuration(42_000)).toBe('42.0 s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(formatDuration(3 * 3600_000 + 60_000)).toBe('3h 1m');
    expect(formatDuration(50 * 3600_000)).toBe('2d 2h');
    expect(formatDuration(undefined)).toBe('—');
  });

  it('formats percentages and ratios', () => {
    expect(formatPercent(54.4)).toBe('54%');
    expect(formatPercent(3.14)).toBe('3.1%');
    expect(formatPercent(0.5, true)).toBe('50%');
    expect(formatPercent(null)).toBe('—');
    expect(successRate(197, 200)).toBe('99%');
    expect(successRate(0, 0)).toBe('—');
  });

  it('formats numbers and rates', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatRate(53.04, 'tok/s')).toBe('53.0 tok/s');
    expect(formatRate(1234.5, 'tok/s')).toBe('1235 tok/s');
    expect(formatRate(null, 'tok/s')).toBe('—');
  });

  it('says how long ago something happened', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(relativeTime('2026-12-02T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2026-12-02T11:59:30Z', now)).toBe('30 s ago');
    expect(relativeTime('2026-12-02T11:50:00Z', now)).toBe('10 min ago');
    expect(relativeTime('2026-12-02T07:00:00Z', now)).toBe('5 h ago');
    expect(relativeTime('2026-11-20T07:00:00Z', now)).toBe('2026-11-20');
    expect(relativeTime('2026-12-05T12:00:00Z', now)).toBe('in 3 d');
    expect(relativeTime(null, now)).toBe('never');
    expect(relativeTime('garbage', now)).toBe('—');
  });
});
