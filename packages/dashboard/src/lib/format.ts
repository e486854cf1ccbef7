/** Display formatting shared by every view: bytes, durations, percentages, relative times. */

const DASH = '—';

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return DASH;
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  return h < 24 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatUptime(seconds: number | null | undefined): string {
  if (!seconds) return DASH;
  return formatDuration(seconds * 1000);
}

/** A 0..100 percentage (or 0..1 ratio when `ratio`), one decimal under 10. */
export function formatPercent(value: number | null | undefined, ratio = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const pct = ratio ? value * 100 : value;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}%`;
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return new Intl.NumberFormat('en-US').format(value);
}

export function formatRate(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${unit}`;
}

/** "12 s ago", "5 min ago", "3 h ago", or a date for anything older than a day. */
export function relativeTime(iso: string | number | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return 'never';
  const at = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(at)) return DASH;
  const diff = Math.round((now - at) / 1000);
  if (diff < 0) {
    const ahead = -diff;
    if (ahead < 3600) return `in ${Math.max(1, Math.round(ahead / 60))} min`;
    if (ahead < 86_400) return `in ${Math.round(ahead / 3600)} h`;
    return `in ${Math.round(ahead / 86_400)} d`;
  }
  if (diff < 5) return 'just now';
  if (diff < 60) return `${diff} s ago`;
  if (diff < 3600) return `${Math.floor(diff / 60)} min ago`;
  if (diff < 86_400) return `${Math.floor(diff / 3600)} h ago`;
  return new Date(at).toISOString().slice(0, 10);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

/** Success rate of a total, as "98.5%", or a dash when there were no requests. */
export function successRate(successful: number, total: number): string {
  if (!total) return DASH;
  return formatPercent((successful / total) * 100);
}
