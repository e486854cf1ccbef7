/**
 * The per-request logger Fastify hands every request (`request.log`, bound to the request id),
 * made on first use. pino builds a child eagerly: it runs the redaction over the bindings and,
 * given Fastify's (empty) options object, rebuilds its formatters, about 2 KB and 1–2 µs per
 * request, for a logger that a request that goes well never writes to (a line below the log
 * level does not make it either).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Args = Parameters<FastifyBaseLogger['info']>;

class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    if (!this.made) {
      // An empty options object would send pino down its slow path for nothing.
      const options = Object.keys(this.options).length > 0 ? this.options : undefined;
      this.made = this.parent.child(this.bindings, options);
    }
    return this.made;
  }

  get level(): string {
    return this.made ? this.made.level : (this.options.level ?? this.parent.level);
  }
  set level(level: string) {
    this.logger.level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
  /** A line below the level is dropped here, without making the child for it. */
  private writes(level: string): boolean {
    if (this.made || this.options.level !== undefined) return true;
    const parent = this.parent as FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };
    return parent.isLevelEnabled?.(level) ?? true;
  }
  fatal(...args: Args): void {
    if (this.writes('fatal')) this.logger.fatal(...args);
  }
  error(...args: Args): void {
    if (this.writes('error')) this.logger.error(...args);
  }
  warn(...args: Args): void {
    if (this.writes('warn')) this.logger.warn(...args);
  }
  info(...args: Args): void {
    if (this.writes('info')) this.logger.info(...args);
  }
  debug(...args: Args): void {
    if (this.writes('debug')) this.logger.debug(...args);
  }
  trace(...args: Args): void {
    if (this.writes('trace')) this.logger.trace(...args);
  }
  silent(): void {}
}

/** Fastify's `childLoggerFactory`: the request's logger, made when it first logs. */
export function lazyRequestLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
