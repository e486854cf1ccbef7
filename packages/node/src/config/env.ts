/**
 * Reading settings: each one has a documented environment variable, optionally legacy names
 * (still honoured, with a deprecation warning) and a key in the `LLM_NODE_CONFIG` JSON file.
 * Precedence: environment, then the config file, then the default.
 */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export interface SettingReader {
  /** The raw value and the name it came from (for error messages), or undefined when unset. */
  raw(
    name: string,
    options?: { legacy?: string[]; fileKey?: string },
  ): { value: string; source: string } | undefined;
  warnings: string[];
}

export function createSettingReader(
  env: Env,
  file: Record<string, unknown>,
  filePath: string | null,
): SettingReader {
  const warnings: string[] = [];
  return {
    warnings,
    raw(name, { legacy = [], fileKey } = {}) {
      const value = env[name];
      if (value !== undefined && value.trim() !== '') return { value: value.trim(), source: name };
      for (const old of legacy) {
        const legacyValue = env[old];
        if (legacyValue !== undefined && legacyValue.trim() !== '') {
          warnings.push(`${old} is deprecated; use ${name} instead`);
          return { value: legacyValue.trim(), source: old };
        }
      }
      if (fileKey && file[fileKey] !== undefined && file[fileKey] !== null) {
        return { value: String(file[fileKey]).trim(), source: `${fileKey} in ${filePath}` };
      }
      return undefined;
    },
  };
}

export function parseNumber(
  setting: { value: string; source: string } | undefined,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {},
): number {
  if (setting === undefined) return fallback;
  const value = Number(setting.value);
  const ok = Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(`${setting.source} must be ${kind} ${range}, got '${setting.value}'`);
  }
  return value;
}

export function parseBoolean(
  setting: { value: string; source: string } | undefined,
  fallback: boolean,
): boolean {
  if (setting === undefined) return fallback;
  const v = setting.value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${setting.source} must be true or false, got '${setting.value}'`);
}

export function parseUrl(setting: { value: string; source: string } | undefined, fallback: string): string {
  const value = setting?.value ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${setting?.source ?? 'URL'} must be an http(s) URL, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${setting?.source ?? 'URL'} must be an http(s) URL, got '${value}'`);
  }
  return value.replace(/\/+$/, '');
}
