/**
 * Invitation codes let an admin invite a viewer: `inv_` + 16 characters, stored hashed, one
 * use, with an expiry (72 hours unless chosen).
 */
import { randomUUID } from 'node:crypto';
import type { RouterDatabase } from '../store/database.js';
import type { InvitationsTable } from '../store/schema.js';
import { randomAlphanumeric, sha256Hex } from './secrets.js';
import { createUser, type UserRow } from './users.js';

export type InvitationRow = InvitationsTable;

export type RedeemResult =
  | { ok: true; user: UserRow }
  | { ok: false; reason: 'invalid_invitation' | 'username_taken' };

export async function createInvitation(
  db: RouterDatabase,
  createdBy: string | null,
  expiresInHours: number,
): Promise<{ row: InvitationRow; code: string }> {
  const code = `inv_${randomAlphanumeric(16)}`;
  const now = Date.now();
  const row: InvitationRow = {
    id: randomUUID(),
    code_hash: sha256Hex(code),
    created_by: createdBy,
    created_at: now,
    expires_at: now + expiresInHours * 3_600_000,
    status: 'active',
    used_by: null,
    used_at: null,
  };
  await db.insertInto('invitations').values(row).execute();
  return { row, code };
}

export function listInvitations(db: RouterDatabase): Promise<InvitationRow[]> {
  return db.selectFrom('invitations').selectAll().orderBy('created_at', 'desc').execute();
}

export async function revokeInvitation(db: RouterDatabase, id: string): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ status: 'revoked' })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  return (
    (await db.selectFrom('invitations').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  );
}

/** Creates a viewer from an active, unexpired code and marks the code used, atomically. */
export async function redeemInvitation(
  db: RouterDatabase,
  code: string,
  username: string,
  password: string,
): Promise<RedeemResult> {
  return db
    .transaction()
    .execute(async (tx) => {
      const now = Date.now();
      // Claiming the code first makes two simultaneous redemptions race on one UPDATE: one wins.
      const claimed = await tx
        .updateTable('invitations')
        .set({ status: 'used', used_at: now })
        .where('code_hash', '=', sha256Hex(code))
        .where('status', '=', 'active')
        .where('expires_at', '>', now)
        .returning(['id'])
        .executeTakeFirst();
      if (!claimed) return { ok: false, reason: 'invalid_invitation' } as const;
      const taken = await tx
        .selectFrom('users')
        .select('id')
        .where('username', '=', username)
        .executeTakeFirst();
      if (taken) throw new UsernameTakenError();
      const user = await createUser(tx, { username, password, role: 'viewer' });
      await tx.updateTable('invitations').set({ used_by: user.id }).where('id', '=', claimed.id).execute();
      return { ok: true, user } as const;
    })
    .catch((error: unknown) => {
      // Throwing rolls the claim back, so the code stays usable with another username.
      if (error instanceof UsernameTakenError) return { ok: false, reason: 'username_taken' } as const;
      throw error;
    });
}

class UsernameTakenError extends Error {}
