/** A log tail: level filter, newest at the bottom, follows new lines while at the bottom. */
import { useEffect, useRef } from 'react';
import type { LogEntry } from '../api/types';
import { cx } from './ui';

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const LEVEL_CLASS: Record<string, string> = {
  error: 'text-red-600 dark:text-red-400',
  fatal: 'text-red-600 dark:text-red-400',
  warn: 'text-amber-600 dark:text-amber-400',
  info: 'text-sky-600 dark:text-sky-400',
  debug: 'text-zinc-500',
  trace: 'text-zinc-500',
};

export function filterByLevel(entries: LogEntry[], minLevel: string): LogEntry[] {
  const min = LEVEL_ORDER.indexOf(minLevel);
  if (min <= 0) return entries;
  return entries.filter((e) => LEVEL_ORDER.indexOf((e.level ?? 'info').toLowerCase()) >= min);
}

export function LogView({ entries, follow, label }: { entries: LogEntry[]; follow: boolean; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls whenever new entries arrive.
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [entries, follow]);
  return (
    <div
      ref={box}
      role="log"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users must reach it.
      tabIndex={0}
      className="max-h-[28rem] min-h-40 overflow-auto rounded-lg bg-zinc-950 p-3 text-zinc-200"
    >
      {entries.length === 0 ? (
        <p className="log-line text-zinc-500">No log lines.</p>
      ) : (
        entries.map((e, i) => {
          const level = (e.level ?? 'info').toLowerCase();
          const time = e.timestamp ?? e.ts ?? '';
          const fields = e.fields && Object.keys(e.fields).length ? ` ${JSON.stringify(e.fields)}` : '';
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: log lines have no identity of their own.
            <div key={i} className="log-line whitespace-pre-wrap break-all">
              <span className="text-zinc-500">{time.replace('T', ' ').replace('Z', '').slice(0, 23)} </span>
              <span className={cx('font-semibold uppercase', LEVEL_CLASS[level])}>{level.padEnd(5)} </span>
              {e.target ? <span className="text-zinc-400">{e.target} </span> : null}
              <span>{e.message ?? e.msg ?? ''}</span>
              <span className="text-zinc-500">{fields}</span>
            </div>
          );
        })
      )}
    </div>
  );
}
