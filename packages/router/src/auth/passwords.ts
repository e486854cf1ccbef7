/**
 * Password hashing with argon2id (OWASP's recommended parameters: 19 MiB, 2 passes).
 *
 * The native argon2 binding is loaded on the first hash or verify, not at startup: a restart
 * on existing state never touches a password until someone logs in, and `serve`'s cold start
 * should not pay for it.
 */
type Argon2 = typeof import('@node-rs/argon2');

const ARGON2ID = 2;
let argon2: Promise<Argon2> | undefined;

function loadArgon2(): Promise<Argon2> {
  argon2 ??= import('@node-rs/argon2');
  return argon2;
}

export async function hashPassword(password: string): Promise<string> {
  const { hash } = await loadArgon2();
  return hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const { verify } = await loadArgon2();
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
