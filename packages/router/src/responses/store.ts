/**
 * Stored OpenAI Responses: written after a `/v1/responses` request with `store` (the default),
 * read back by `GET /v1/responses/{id}` and `previous_response_id`, deleted by `DELETE`, and
 * swept with the same retention as request history. Every read is scoped to the owner that
 * created the response, so one key cannot see another's (a foreign id is simply not found).
 */
import type { RouterDatabase } from '../store/database.js';

export interface StoredResponse {
  id: string;
  owner: string;
  model: string;
  provider: string | null;
  createdAt: number;
  /** Chat messages (OpenAI chat shape) that were the input of this response. */
  conversation: unknown[];
  response: Record<string, unknown>;
}

/**
 * Ids we store (`resp_…`, and OpenAI's own for `openai:` passthrough) are word characters; any
 * other id cannot exist, and PostgreSQL would refuse some (NUL) as a query parameter.
 */
const STORABLE_ID = /^[\w-]{1,256}$/;

export class ResponseStore {
  constructor(private readonly db: RouterDatabase) {}

  async save(entry: StoredResponse): Promise<void> {
    await this.db
      .insertInto('responses')
      .values({
        id: entry.id,
        owner: entry.owner,
        model: entry.model,
        provider: entry.provider,
        created_at: entry.createdAt,
        conversation: JSON.stringify(entry.conversation),
        response: JSON.stringify(entry.response),
      })
      .execute();
  }

  async get(id: string, owner: string): Promise<StoredResponse | undefined> {
    if (!STORABLE_ID.test(id)) return undefined;
    const row = await this.db
      .selectFrom('responses')
      .selectAll()
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      owner: row.owner,
      model: row.model,
      provider: row.provider,
      createdAt: Number(row.created_at),
      conversation: JSON.parse(row.conversation) as unknown[],
      response: JSON.parse(row.response) as Record<string, unknown>,
    };
  }

  /** True when a response of this owner was deleted. */
  async delete(id: string, owner: string): Promise<boolean> {
    if (!STORABLE_ID.test(id)) return false;
    const result = await this.db
      .deleteFrom('responses')
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteBefore(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('responses').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
