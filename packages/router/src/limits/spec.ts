/**
 * What a limit is: the per-key (or per-user) settings an admin sets on `/v0/api-keys` and
 * `/v0/users`, their validation, and their JSON form in the database.
 */
import { z } from 'zod';

const count = z.number().int().positive().max(1_000_000_000_000);

/** The limits that may also be set for one model. */
const ModelLimitsSchema = z
  .object({
    rpm: count.optional(),
    tpm: count.optional(),
    tokens_per_day: count.optional(),
    tokens_per_month: count.optional(),
  })
  .strict();

export const LimitsSchema = z
  .object({
    /** Requests started per minute (UTC minute windows). */
    rpm: count.optional(),
    /** Tokens (prompt + completion) per minute. */
    tpm: count.optional(),
    /** Requests in flight at once (per router replica). */
    concurrent: count.optional(),
    /** Token budget per UTC day. */
    tokens_per_day: count.optional(),
    /** Token budget per UTC calendar month. */
    tokens_per_month: count.optional(),
    /** The same limits for one model (exact model name), on top of the ones above. */
    models: z.record(z.string().min(1).max(512), ModelLimitsSchema).optional(),
  })
  .strict();

export type Limits = z.infer<typeof LimitsSchema>;
export type ModelLimits = z.infer<typeof ModelLimitsSchema>;

/** `null` (no limits) for an empty object, so "no limits" has one form. */
export function normaliseLimits(limits: Limits | null | undefined): Limits | null {
  if (!limits) return null;
  const hasAny =
    Object.entries(limits).some(([k, v]) => k !== 'models' && v !== undefined) ||
    Object.keys(limits.models ?? {}).length > 0;
  return hasAny ? limits : null;
}

/** Reads the `limits` column; a row written by a newer or broken writer counts as no limits. */
export function limitsFromColumn(text: string | null | undefined): Limits | null {
  if (!text) return null;
  try {
    const parsed = LimitsSchema.safeParse(JSON.parse(text));
    return parsed.success ? normaliseLimits(parsed.data) : null;
  } catch {
    return null;
  }
}

export const limitsToColumn = (limits: Limits | null): string | null =>
  limits ? JSON.stringify(limits) : null;
