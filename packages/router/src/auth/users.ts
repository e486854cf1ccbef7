/** Users of the dashboard and management API, and the first-boot admin. */
import { randomUUID } from 'node:crypto';
import type { RouterDatabase } from '../store/database.js';
import type { UsersTable } from '../store/schema.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { newPassword } from './secrets.js';

export type UserRow = Omit<UsersTable, 'token_generation'> & { token_generation: number };

export interface FirstAdminResult {
  username: string;
  /** Set only when the router generated the password (it is shown once). */
  generatedPassword: string | null;
}

/**
 * Creates the first admin when the users table is empty. Never prompts: without
 * LLM_ROUTER_ADMIN_PASSWORD a password is generated and returned so the caller can print it once.
 */
export async function ensureFirstAdmin(
  db: RouterDatabase,
  username: string,
  password: string | undefined,
): Promise<FirstAdminResult | null> {
  const existing = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (existing) return null;
  const chosen = password ?? newPassword();
  await createUser(db, { username, password: chosen, role: 'admin' });
  return { username, generatedPassword: password ? null : chosen };
}

export async function createUser(
  db: RouterDatabase,
  input: { username: string; password: string; role: 'admin' | 'viewer' },
): Promise<UserRow> {
  const row: UserRow = {
    id: randomUUID(),
    username: input.username,
    password_hash: await hashPassword(input.password),
    role: input.role,
    created_at: Date.now(),
    last_login: null,
    token_generation: 0,
  };
  await db.insertInto('users').values(row).execute();
  return row;
}

export async function findUserById(db: RouterDatabase, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user for a correct username/password pair, else null (same answer for both mistakes). */
export async function authenticateUser(
  db: RouterDatabase,
  username: string,
  password: string,
): Promise<UserRow | null> {
  const user = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  if (!user || !(await verifyPassword(user.password_hash, password))) return null;
  const now = Date.now();
  await db.updateTable('users').set({ last_login: now }).where('id', '=', user.id).execute();
  return { ...user, last_login: now };
}
