/** Users of the dashboard and management API, and the first-boot admin. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isPostgres, type RouterDatabase } from '../store/database.js';
import type { Database, UsersTable } from '../store/schema.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { newPassword } from './secrets.js';

export type UserRow = Omit<UsersTable, 'token_generation'> & { token_generation: number };
export type Role = 'admin' | 'viewer';

export interface FirstAdminResult {
  username: string;
  /** Set only when the router generated the password (it is shown once). */
  generatedPassword: string | null;
}

export class LastAdminError extends Error {
  constructor() {
    super('The last admin cannot be deleted or demoted');
  }
}

let standIn: Promise<string> | undefined;
/** An argon2id hash of a random password, made once, used to spend the same time on unknown users. */
const standInHash = () => {
  standIn ??= hashPassword(newPassword());
  return standIn;
};

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
  db: Kysely<Database>,
  input: { username: string; password: string; role: Role },
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

export function listUsers(db: RouterDatabase): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('created_at').execute();
}

export async function findUserById(db: RouterDatabase, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByName(db: RouterDatabase, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

/** The user for a correct username/password pair, else null (same answer for both mistakes). */
export async function authenticateUser(
  db: RouterDatabase,
  username: string,
  password: string,
): Promise<UserRow | null> {
  const user = await findUserByName(db, username);
  // Verify against a stand-in hash for unknown users too, so the answer time does not reveal
  // which usernames exist.
  const verified = await verifyPassword(user?.password_hash ?? (await standInHash()), password);
  if (!user || !verified) return null;
  const now = Date.now();
  await db.updateTable('users').set({ last_login: now }).where('id', '=', user.id).execute();
  return { ...user, last_login: now };
}

/**
 * Changes a user. A new password or role ends the user's sessions (their JWTs carry the old
 * generation). Throws LastAdminError rather than leave the router without an admin.
 */
export async function updateUser(
  db: RouterDatabase,
  id: string,
  changes: { username?: string; password?: string; role?: Role },
): Promise<UserRow | undefined> {
  return db.transaction().execute(async (tx) => {
    const user = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!user) return undefined;
    if (changes.role === 'viewer' && user.role === 'admin' && (await countAdmins(tx)) <= 1)
      throw new LastAdminError();
    const endsSessions =
      changes.password !== undefined || (changes.role !== undefined && changes.role !== user.role);
    const update: Partial<UserRow> = {};
    if (changes.username !== undefined) update.username = changes.username;
    if (changes.role !== undefined) update.role = changes.role;
    if (changes.password !== undefined) update.password_hash = await hashPassword(changes.password);
    if (endsSessions) update.token_generation = user.token_generation + 1;
    if (Object.keys(update).length > 0)
      await tx.updateTable('users').set(update).where('id', '=', id).execute();
    return { ...user, ...update };
  });
}

export async function deleteUser(db: RouterDatabase, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const user = await tx.selectFrom('users').select(['id', 'role']).where('id', '=', id).executeTakeFirst();
    if (!user) return false;
    if (user.role === 'admin' && (await countAdmins(tx)) <= 1) throw new LastAdminError();
    await tx.deleteFrom('users').where('id', '=', id).execute();
    return true;
  });
}

/** Ends every session of the user (logout): their existing JWTs stop working. */
export async function endSessions(db: RouterDatabase, id: string): Promise<void> {
  // One statement, so a concurrent password change cannot lose the increment.
  await db
    .updateTable('users')
    .set((eb) => ({ token_generation: eb('token_generation', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/**
 * Admins left, counted inside the caller's transaction. On PostgreSQL the admin rows are locked
 * first (`SELECT … FOR UPDATE`): two concurrent demotions of the last two admins then run one
 * after the other, and the second sees one admin and is refused. SQLite transactions already
 * run one at a time.
 */
async function countAdmins(db: Kysely<Database>): Promise<number> {
  if (isPostgres(db)) {
    const locked = await db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .forUpdate()
      .execute();
    return locked.length;
  }
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
