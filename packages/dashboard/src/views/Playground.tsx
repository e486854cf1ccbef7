/**
 * Playground: chat with any model through the signed-in session (or an optional API key).
 * Conversations live in localStorage; replies stream token by token with Stop, and each reply
 * shows its time to first token and tokens per second. "Copy as curl" gives the exact request.
 */
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { errorFromResponse, messageOf, writeHeaders } from '../api/client';
import { useModels } from '../api/hooks';
import type { ApiModel } from '../api/types';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  cx,
  ErrorMessage,
  Field,
  inputClass,
  Select,
  TextInput,
} from '../components/ui';
import {
  type ChatMessage,
  type Conversation,
  curlFor,
  loadConversations,
  newConversation,
  saveConversations,
  titleFrom,
  toRequestMessages,
} from '../lib/conversations';
import { formatDuration, formatRate } from '../lib/format';
import { readChatStream } from '../lib/sse';
import { isCloudModel } from './Models';

const KEY_STORAGE = 'llm-router.playground.api-key';
const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function ReplyStats({ m }: { m: ChatMessage }) {
  if (!m.stats) return null;
  return (
    <div className="mt-1.5 flex flex-wrap gap-x-3 text-[11px] text-zinc-500" data-testid="reply-stats">
      <span>TTFT {formatDuration(m.stats.ttftMs)}</span>
      <span>{formatRate(m.stats.tokensPerSecond, 'tok/s')}</span>
      {m.stats.tokens !== null ? <span>{m.stats.tokens} tokens</span> : null}
      {m.stats.stopped ? <Badge tone="yellow">stopped</Badge> : null}
    </div>
  );
}

export default function Playground() {
  const models = useModels();
  const [conversations, setConversations] = useState<Conversation[]>(() => loadConversations());
  const [activeId, setActiveId] = useState<string | null>(() => conversations[0]?.id ?? null);
  const [filter, setFilter] = useState<'all' | 'local' | 'cloud'>('all');
  const [input, setInput] = useState('');
  const [images, setImages] = useState<string[]>([]);
  const [temperature, setTemperature] = useState(0.7);
  const [maxTokens, setMaxTokens] = useState(2048);
  const [stream, setStream] = useState(true);
  const [apiKey, setApiKey] = useState(() => localStorage.getItem(KEY_STORAGE) ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  const allModels = models.data ?? [];
  const shown = allModels.filter((m) => filter === 'all' || (filter === 'cloud') === isCloudModel(m));
  const active = conversations.find((c) => c.id === activeId) ?? null;
  const model = active?.model || shown.find((m) => m.ready !== false)?.id || shown[0]?.id || '';

  useEffect(() => {
    saveConversations(conversations);
  }, [conversations]);
  useEffect(() => {
    localStorage.setItem(KEY_STORAGE, apiKey);
  }, [apiKey]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll as the reply grows.
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' });
  }, [active?.messages]);

  const update = (id: string, change: (c: Conversation) => Conversation) =>
    setConversations((list) => list.map((c) => (c.id === id ? { ...change(c), updatedAt: Date.now() } : c)));

  const ensureConversation = (): Conversation => {
    if (active) return active;
    const created = newConversation(model);
    setConversations((list) => [created, ...list]);
    setActiveId(created.id);
    return created;
  };

  const requestBody = (conv: Conversation, messages: ChatMessage[]) => ({
    model: conv.model || model,
    messages: toRequestMessages(conv.system, messages),
    temperature,
    max_tokens: maxTokens,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  });

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!input.trim() || busy || !model) return;
    const conv = ensureConversation();
    const user: ChatMessage = { role: 'user', content: input, ...(images.length ? { images } : {}) };
    const history = [...conv.messages, user];
    const body = requestBody({ ...conv, model: conv.model || model }, history);
    update(conv.id, (c) => ({
      ...c,
      model: c.model || model,
      title: c.messages.length ? c.title : titleFrom(input),
      messages: [...history, { role: 'assistant', content: '' }],
    }));
    setInput('');
    setImages([]);
    setError(null);
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    let first: number | null = null;
    let text = '';
    let chunks = 0;
    let usageTokens: number | null = null;
    const setReply = (content: string, stats?: ChatMessage['stats']) =>
      update(conv.id, (c) => {
        const msgs = [...c.messages];
        msgs[msgs.length - 1] = { role: 'assistant', content, ...(stats ? { stats } : {}) };
        return { ...c, messages: msgs };
      });
    const finish = (stopped: boolean, err?: string) => {
      const end = performance.now();
      const tokens = usageTokens ?? (chunks || null);
      const genSeconds = first === null ? null : (end - first) / 1000;
      setReply(text, {
        ttftMs: first === null ? null : first - started,
        tokensPerSecond: tokens && genSeconds && genSeconds > 0 ? tokens / genSeconds : null,
        tokens,
        stopped,
        ...(err ? { error: err } : {}),
      });
    };
    try {
      const res = await fetch('/v1/chat/completions', {
        method: 'POST',
        credentials: 'same-origin',
        signal: controller.signal,
        headers: apiKey.trim()
          ? { 'content-type': 'application/json', authorization: `Bearer ${apiKey.trim()}` }
          : writeHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify(body),
      });
      if (!res.ok) throw await errorFromResponse(res);
      if (stream && res.body) {
        for await (const chunk of readChatStream(res.body)) {
          const delta = chunk.choices?.[0]?.delta?.content ?? '';
          if (chunk.usage?.completion_tokens) usageTokens = chunk.usage.completion_tokens;
          if (!delta) continue;
          first ??= performance.now();
          chunks++;
          text += delta;
          setReply(text);
        }
      } else {
        const json = (await res.json()) as {
          choices?: Array<{ message?: { content?: string } }>;
          usage?: { completion_tokens?: number };
        };
        first = performance.now();
        text = json.choices?.[0]?.message?.content ?? '';
        usageTokens = json.usage?.completion_tokens ?? null;
      }
      finish(false);
    } catch (err) {
      if ((err as Error).name === 'AbortError') finish(true);
      else {
        finish(false, messageOf(err));
        setError(err);
      }
    } finally {
      abort.current = null;
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed from what the request would contain.
  const curl = useMemo(() => {
    const conv = active ?? newConversation(model);
    const pending: ChatMessage[] = input.trim() ? [{ role: 'user', content: input }] : [];
    return curlFor(
      location.origin,
      requestBody({ ...conv, model: conv.model || model }, [...conv.messages, ...pending]),
      apiKey.trim(),
    );
  }, [active, model, input, temperature, maxTokens, stream, apiKey]);

  const selectedModel: ApiModel | undefined = allModels.find((m) => m.id === model);

  return (
    <div className="grid gap-4 md:grid-cols-[15rem_minmax(0,1fr)]">
      <aside aria-label="Conversations" className="space-y-2">
        <Button
          variant="primary"
          className="w-full"
          onClick={() => {
            const created = newConversation(model);
            setConversations((list) => [created, ...list]);
            setActiveId(created.id);
          }}
        >
          New chat
        </Button>
        <ul className="flex gap-1 overflow-x-auto md:max-h-[70vh] md:flex-col md:overflow-y-auto">
          {conversations.map((c) => (
            <li key={c.id} className="group flex min-w-0 shrink-0 items-center md:shrink">
              <button
                type="button"
                aria-current={c.id === activeId ? 'true' : undefined}
                onClick={() => setActiveId(c.id)}
                className={cx(
                  'min-w-0 flex-1 truncate rounded-lg px-3 py-2 text-left text-sm',
                  c.id === activeId
                    ? 'bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300'
                    : 'hover:bg-zinc-100 dark:hover:bg-zinc-800',
                )}
              >
                {c.title}
              </button>
              <button
                type="button"
                aria-label={`Delete conversation ${c.title}`}
                className="rounded p-1 text-zinc-400 hover:text-red-600"
                onClick={() => {
                  setConversations((list) => list.filter((x) => x.id !== c.id));
                  if (activeId === c.id) setActiveId(null);
                }}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      </aside>

      <div className="min-w-0 space-y-3">
        <Card className="p-3">
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-6">
            <div className="col-span-2">
              <Field label="Model">
                {(id) => (
                  <Select
                    id={id}
                    value={model}
                    onChange={(e) => {
                      const conv = ensureConversation();
                      update(conv.id, (c) => ({ ...c, model: e.target.value }));
                    }}
                  >
                    {shown.length === 0 ? <option value="">No models</option> : null}
                    {shown.map((m) => (
                      <option key={m.id} value={m.id}>
                        {m.id}
                        {m.ready === false ? ` (${m.lifecycle_status ?? 'not ready'})` : ''}
                      </option>
                    ))}
                  </Select>
                )}
              </Field>
            </div>
            <Field label="Show">
              {(id) => (
                <Select id={id} value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
                  <option value="all">All models</option>
                  <option value="local">Local</option>
                  <option value="cloud">Cloud</option>
                </Select>
              )}
            </Field>
            <Field label="Temperature">
              {(id) => (
                <TextInput
                  id={id}
                  type="number"
                  min={0}
                  max={2}
                  step={0.1}
                  value={temperature}
                  onChange={(e) => setTemperature(Number(e.target.value))}
                />
              )}
            </Field>
            <Field label="Max tokens">
              {(id) => (
                <TextInput
                  id={id}
                  type="number"
                  min={1}
                  max={131072}
                  value={maxTokens}
                  onChange={(e) => setMaxTokens(Number(e.target.value))}
                />
              )}
            </Field>
            <label className="flex items-end gap-2 pb-2 text-sm">
              <input
                type="checkbox"
                checked={stream}
                onChange={(e) => setStream(e.target.checked)}
                className="size-4 accent-indigo-600"
              />
              Stream
            </label>
          </div>
          <details className="mt-3">
            <summary className="cursor-pointer text-xs font-medium text-zinc-600 dark:text-zinc-400">
              System prompt and API key
            </summary>
            <div className="mt-3 grid gap-3 md:grid-cols-2">
              <Field label="System prompt">
                {(id) => (
                  <textarea
                    id={id}
                    rows={2}
                    className={inputClass}
                    value={active?.system ?? ''}
                    onChange={(e) => {
                      const conv = ensureConversation();
                      update(conv.id, (c) => ({ ...c, system: e.target.value }));
                    }}
                  />
                )}
              </Field>
              <Field label="API key (optional)" hint="Leave empty to use your session">
                {(id, hint) => (
                  <TextInput
                    id={id}
                    aria-describedby={hint}
                    type="password"
                    autoComplete="off"
                    placeholder="sk_…"
                    value={apiKey}
                    onChange={(e) => setApiKey(e.target.value)}
                  />
                )}
              </Field>
            </div>
          </details>
          {selectedModel && selectedModel.ready === false ? (
            <p className="mt-2 text-xs text-amber-700 dark:text-amber-400">
              {selectedModel.id} is not ready yet ({selectedModel.lifecycle_status ?? 'loading'}).
            </p>
          ) : null}
        </Card>

        <Card className="flex min-h-[50vh] flex-col">
          <div
            role="log"
            aria-label="Conversation"
            aria-live="polite"
            className="flex-1 space-y-4 overflow-y-auto p-4"
          >
            {!active || active.messages.length === 0 ? (
              <p className="py-16 text-center text-sm text-zinc-500">Send a message to start chatting.</p>
            ) : (
              active.messages.map((m, i) => (
                <div
                  // biome-ignore lint/suspicious/noArrayIndexKey: messages are append-only.
                  key={i}
                  data-role={m.role}
                  className={cx('flex', m.role === 'user' ? 'justify-end' : 'justify-start')}
                >
                  <div
                    className={cx(
                      'max-w-[85%] rounded-2xl px-4 py-2.5 text-sm',
                      m.role === 'user'
                        ? 'bg-indigo-600 text-white'
                        : 'bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100',
                    )}
                  >
                    {m.images?.length ? (
                      <div className="mb-2 flex flex-wrap gap-2">
                        {m.images.map((src, j) => (
                          // biome-ignore lint/suspicious/noArrayIndexKey: images have no identity.
                          <img key={j} src={src} alt="Attached" className="h-20 rounded-lg object-cover" />
                        ))}
                      </div>
                    ) : null}
                    <div
                      className="whitespace-pre-wrap break-words"
                      data-testid={m.role === 'assistant' ? 'assistant-message' : undefined}
                    >
                      {m.content || (busy && i === active.messages.length - 1 ? '…' : '')}
                    </div>
                    {m.stats?.error ? <p className="mt-1 text-xs text-red-600">{m.stats.error}</p> : null}
                    <ReplyStats m={m} />
                  </div>
                </div>
              ))
            )}
            <div ref={bottom} />
          </div>
          <form onSubmit={send} className="space-y-2 border-t border-zinc-200 p-3 dark:border-zinc-800">
            <ErrorMessage error={error} />
            {images.length ? (
              <div className="flex flex-wrap gap-2">
                {images.map((src, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: pending attachments.
                  <div key={i} className="relative">
                    <img src={src} alt="Attachment preview" className="h-14 rounded-lg object-cover" />
                    <button
                      type="button"
                      aria-label="Remove attachment"
                      className="absolute -right-1.5 -top-1.5 rounded-full bg-zinc-900 px-1.5 text-xs text-white"
                      onClick={() => setImages(images.filter((_, j) => j !== i))}
                    >
                      ✕
                    </button>
                  </div>
                ))}
              </div>
            ) : null}
            <label htmlFor="playground-message" className="sr-only">
              Message
            </label>
            <textarea
              id="playground-message"
              rows={3}
              className={inputClass}
              placeholder="Message (Enter to send, Shift+Enter for a new line)"
              value={input}
              onChange={(e) => setInput(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  void send();
                }
              }}
            />
            <div className="flex flex-wrap items-center gap-2">
              <label className="cursor-pointer rounded-lg px-3 py-2 text-sm font-medium text-zinc-600 ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 focus-within:outline-2 focus-within:outline-indigo-500 dark:text-zinc-300 dark:ring-zinc-700 dark:hover:bg-zinc-800">
                Attach image
                <input
                  type="file"
                  accept="image/*"
                  multiple
                  className="sr-only"
                  onChange={async (e) => {
                    const files = [...(e.target.files ?? [])];
                    e.target.value = '';
                    const tooBig = files.find((f) => f.size > MAX_IMAGE_BYTES);
                    if (tooBig) return setError(new Error(`${tooBig.name} is larger than 4 MB`));
                    const urls = await Promise.all(files.map(readAsDataUrl));
                    setImages((prev) => [...prev, ...urls]);
                  }}
                />
              </label>
              <CopyButton text={curl} label="Copy as curl" />
              <div className="ml-auto flex gap-2">
                {busy ? (
                  <Button variant="danger" onClick={() => abort.current?.abort()}>
                    Stop
                  </Button>
                ) : null}
                <Button type="submit" variant="primary" disabled={busy || !input.trim() || !model}>
                  Send
                </Button>
              </div>
            </div>
          </form>
        </Card>
      </div>
    </div>
  );
}
