/**
 * The cost of one request-history row on SQLite: the router's prepared INSERT (in transactions
 * of 200 rows, as the history writer thread runs it) into a table migrated like the router's,
 * with its eight indexes, once with random (v4) UUIDs for the row id and the request id and
 * once with the time-ordered UUIDv7 the router makes. A random key lands on a random page of
 * its index; a time-ordered one is appended at the end.
 *
 *   npx tsx bench/history-insert.ts
 *   BENCH_ROWS=200000 npx tsx bench/history-insert.ts
 *
 * Prints CPU µs per row for each (user + system of this process, the inserts only).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { uuidV7 } from '../packages/router/src/observability/ids.js';
import { openDatabase } from '../packages/router/src/store/database.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 60_000);
const BATCH = 200;
const COLUMNS = [
  'id',
  'timestamp',
  'request_type',
  'model',
  'node_id',
  'node_machine_name',
  'node_ip',
  'client_ip',
  'api_key_id',
  'stream',
  'request_body',
  'response_body',
  'duration_ms',
  'status',
  'status_code',
  'completed_at',
  'request_id',
  'trace_id',
];
const body = JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 });
const reply = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

async function measure(makeId: () => string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'history-insert-'));
  const path = join(dir, 'router.db');
  await (await openDatabase(`sqlite:${path}`)).destroy(); // the router's schema and indexes
  const db = new SQLite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    `INSERT INTO request_history (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
  );
  const insertAll = db.transaction((rows: unknown[][]) => {
    for (const row of rows) insert.run(row);
  });
  let spent = 0;
  for (let i = 0; i < ROWS; i += BATCH) {
    const now = Date.now();
    const rows = Array.from({ length: BATCH }, () => [
      makeId(),
      now,
      'chat',
      'fake',
      'node-1',
      'fake',
      '127.0.0.1',
      '127.0.0.1',
      'key-1',
      0,
      body,
      reply,
      1,
      'success',
      200,
      now,
      makeId(),
      randomUUID().replaceAll('-', ''),
    ]);
    const before = process.cpuUsage();
    insertAll(rows);
    const used = process.cpuUsage(before);
    spent += used.user + used.system;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return spent / ROWS;
}

const random = await measure(randomUUID);
const ordered = await measure(() => uuidV7());
console.log(`\nrequest_history INSERT, ${ROWS} rows in transactions of ${BATCH}\n`);
console.log('| row id and request id | CPU µs/row |\n|---|---:|');
console.log(`| random UUIDv4 | ${random.toFixed(1)} |`);
console.log(`| time-ordered UUIDv7 | ${ordered.toFixed(1)} |`);
console.log(`\nratio: ${(ordered / random).toFixed(2)}×`);
