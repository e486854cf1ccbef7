/**
 * Per-model download progress for the heartbeat's `model_downloads`. Byte counts change
 * constantly and simply ride the next heartbeat; a change of state (queued → downloading →
 * verifying → done/error) notifies listeners so the agent can report it at once.
 */
import type { ModelDownload } from '@llm-router/protocol';

type State = ModelDownload['state'];

/** The protocol caps the list; the newest entries are the ones worth reporting. */
const MAX_ENTRIES = 1000;

export class DownloadProgress {
  private readonly entries = new Map<string, ModelDownload>();
  private readonly listeners: (() => void)[] = [];

  onStateChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  start(model: string, bytesTotal: number | null, bytesDownloaded: number): void {
    this.entries.delete(model);
    this.entries.set(model, {
      model,
      state: 'queued',
      bytes_downloaded: bytesDownloaded,
      bytes_total: bytesTotal,
      error: null,
    });
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.emit();
  }

  setBytes(model: string, bytesDownloaded: number): void {
    const entry = this.entries.get(model);
    if (entry) entry.bytes_downloaded = Math.max(0, bytesDownloaded);
  }

  setState(model: string, state: State, error: string | null = null): void {
    const entry = this.entries.get(model);
    if (!entry || (entry.state === state && entry.error === error)) return;
    entry.state = state;
    entry.error = error;
    if (state === 'done' && entry.bytes_total !== null) entry.bytes_downloaded = entry.bytes_total;
    this.emit();
  }

  /** Reports an error for a model that never got as far as a download (e.g. a bad manifest). */
  fail(model: string, error: string): void {
    if (!this.entries.has(model)) this.start(model, null, 0);
    this.setState(model, 'error', error);
  }

  get(model: string): ModelDownload | undefined {
    return this.entries.get(model);
  }

  remove(model: string): void {
    if (this.entries.delete(model)) this.emit();
  }

  list(): ModelDownload[] {
    return [...this.entries.values()].map((entry) => ({ ...entry }));
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
