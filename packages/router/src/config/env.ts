/**
 * Reading environment variables: each setting has one documented name and, optionally,
 * legacy names that still work but log a deprecation warning.
 */
export type Env = Record<string, string | undefined>;

export interface EnvReader {
  string(name: string, legacy?: string[]): string | undefined;
  warnings: string[];
}

export function createEnvReader(env: Env): EnvReader {
  const warnings: string[] = [];
  return {
    warnings,
    string(name, legacy = []) {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      for (const old of legacy) {
        const legacyValue = env[old];
        if (legacyValue !== undefined && legacyValue !== '') {
          warnings.push(`${old} is deprecated; use ${name} instead`);
          return legacyValue;
        }
      }
      return undefined;
    },
  };
}

export class ConfigError extends Error {}

export function parseNumber(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number >= ${min}, got '${raw}'`);
  }
  return value;
}

export function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got '${raw}'`);
}
