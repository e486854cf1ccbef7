/**
 * Fault injection for races between a cache's reload and a change made meanwhile: a database
 * whose next query of one kind waits at a gate, before it runs (a write still on its way) or
 * after it read its rows (a read that returns late). Everything else passes straight through.
 */
import type { RouterDatabase } from '../../src/store/database.js';

type Entry = 'selectFrom' | 'updateTable' | 'insertInto' | 'deleteFrom';

export interface HeldQuery {
  /** Resolves when the held query reached the gate. */
  readonly reached: Promise<void>;
  /** Lets it go on. */
  release(): void;
}

export interface HoldingDatabase {
  db: RouterDatabase;
  /** Holds the next query started with `entry` (`db.selectFrom(...)…execute()`), `before` it runs or `after` it read. */
  holdNext(entry: Entry, when: 'before' | 'after'): HeldQuery;
}

export function holdingDatabase(real: RouterDatabase): HoldingDatabase {
  const pending = new Map<
    Entry,
    { when: 'before' | 'after'; reached: () => void; released: Promise<void> }
  >();
  const wrap = <T extends object>(entry: Entry, builder: T): T =>
    new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (String(prop).startsWith('execute'))
          return async (...args: unknown[]) => {
            const hold = pending.get(entry);
            if (hold) pending.delete(entry);
            const wait = async () => {
              hold?.reached();
              await hold?.released;
            };
            if (hold?.when === 'before') await wait();
            const result = await value.apply(target, args);
            if (hold?.when === 'after') await wait();
            return result;
          };
        return (...args: unknown[]) => {
          const next = value.apply(target, args);
          return next !== null && typeof next === 'object' && 'execute' in next ? wrap(entry, next) : next;
        };
      },
    });
  const db = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'selectFrom' || prop === 'updateTable' || prop === 'insertInto' || prop === 'deleteFrom')
        return (...args: unknown[]) => wrap(prop, value.apply(target, args));
      return value.bind(target);
    },
  });
  return {
    db,
    holdNext(entry, when) {
      let reached = () => {};
      let release = () => {};
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      pending.set(entry, { when, reached, released });
      return { reached: reachedPromise, release };
    },
  };
}
