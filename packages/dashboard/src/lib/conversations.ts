/** Playground conversations, kept in the browser's localStorage (never on the router). */

export interface ImagePart {
  type: 'image_url';
  image_url: { url: string };
}
export interface TextPart {
  type: 'text';
  text: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  images?: string[];
  /** Reply statistics, for assistant messages. */
  stats?: {
    ttftMs: number | null;
    tokensPerSecond: number | null;
    tokens: number | null;
    stopped?: boolean;
    error?: string;
  };
}

export interface Conversation {
  id: string;
  title: string;
  model: string;
  system: string;
  messages: ChatMessage[];
  updatedAt: number;
}

const KEY = 'llm-router.playground.conversations';

export function loadConversations(storage: Storage = localStorage): Conversation[] {
  try {
    const parsed = JSON.parse(storage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as Conversation[]).sort((a, b) => b.updatedAt - a.updatedAt) : [];
  } catch {
    return [];
  }
}

export function saveConversations(list: Conversation[], storage: Storage = localStorage): void {
  try {
    storage.setItem(KEY, JSON.stringify(list));
  } catch {
    // Full storage (large images): keep the newest half rather than failing the chat.
    storage.setItem(KEY, JSON.stringify(list.slice(0, Math.ceil(list.length / 2))));
  }
}

export function newConversation(model: string): Conversation {
  return {
    id: crypto.randomUUID(),
    title: 'New chat',
    model,
    system: '',
    messages: [],
    updatedAt: Date.now(),
  };
}

/** A title from the first user message. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 40 ? `${line.slice(0, 40)}…` : line || 'New chat';
}

/** The OpenAI request messages for a conversation (images as content parts). */
export function toRequestMessages(system: string, messages: ChatMessage[]) {
  const out: Array<{ role: string; content: string | Array<TextPart | ImagePart> }> = [];
  if (system.trim()) out.push({ role: 'system', content: system });
  for (const m of messages) {
    if (m.role === 'assistant' && m.stats?.error) continue;
    if (m.images?.length) {
      out.push({
        role: m.role,
        content: [
          { type: 'text', text: m.content },
          ...m.images.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
        ],
      });
    } else out.push({ role: m.role, content: m.content });
  }
  return out;
}

/** The exact request as a curl command (the key is a placeholder unless one was given). */
export function curlFor(origin: string, body: unknown, apiKey?: string): string {
  const json = JSON.stringify(body).replace(/'/g, "'\\''");
  return [
    `curl ${origin}/v1/chat/completions`,
    `  -H 'Content-Type: application/json'`,
    `  -H 'Authorization: Bearer ${apiKey || '$LLM_ROUTER_API_KEY'}'`,
    `  -d '${json}'`,
  ].join(' \\\n');
}
