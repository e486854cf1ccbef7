/** Filtering, sorting and paging of rows held in memory (the fleet is small). */

export type SortDir = 'asc' | 'desc';

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function sortRows<T>(rows: T[], key: (row: T) => unknown, dir: SortDir): T[] {
  const sorted = [...rows].sort((a, b) => compareValues(key(a), key(b)));
  return dir === 'asc' ? sorted : sorted.reverse();
}

export function pageOf<T>(
  rows: T[],
  page: number,
  perPage: number,
): { rows: T[]; pages: number; page: number } {
  const pages = Math.max(1, Math.ceil(rows.length / perPage));
  const current = Math.min(Math.max(1, page), pages);
  return { rows: rows.slice((current - 1) * perPage, current * perPage), pages, page: current };
}

/** Case-insensitive match of a search text against any of the given fields. */
export function matchesSearch(search: string, fields: Array<string | null | undefined>): boolean {
  const needle = search.trim().toLowerCase();
  if (!needle) return true;
  return fields.some((f) => f?.toLowerCase().includes(needle));
}
