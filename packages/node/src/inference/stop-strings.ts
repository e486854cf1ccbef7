/**
 * OpenAI `stop` semantics on generated text: the reply ends right before the first stop
 * string, which is not included. Matching happens on text, not tokens, because a stop string
 * can begin mid-token (" Lily" is one token; "Lily" must still leave "named " intact). Text
 * that might be the start of a stop string is held back until the next chunk decides.
 */
export class StopStringMatcher {
  private held = '';
  private readonly stops: string[];
  stopped = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s !== '');
  }

  /** Feeds generated text; returns what can be shown now. */
  push(text: string): string {
    if (this.stopped) return '';
    const buffer = this.held + text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.held = '';
      return buffer.slice(0, cut);
    }
    const keep = this.partialMatchLength(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return buffer.slice(0, buffer.length - keep);
  }

  /** At the end of generation, whatever was held back is text after all. */
  flush(): string {
    const rest = this.stopped ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest end of `buffer` that some stop string starts with. */
  private partialMatchLength(buffer: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > longest; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
