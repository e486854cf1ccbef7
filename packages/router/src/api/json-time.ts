/** Timestamps are milliseconds inside the router and ISO-8601 strings on the wire. */
export const isoTime = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
