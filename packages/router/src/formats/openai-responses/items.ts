/**
 * Chat messages → Responses input items: the way back, for sending a conversation the router
 * stored (from a local or translated model) to OpenAI's Responses API, which takes items.
 */
type Json = Record<string, unknown>;

export function chatToItems(messages: Json[]): Json[] {
  const items: Json[] = [];
  for (const message of messages) {
    const role = message.role;
    if (role === 'tool') {
      items.push({
        type: 'function_call_output',
        call_id: message.tool_call_id,
        output: String(message.content ?? ''),
      });
      continue;
    }
    const content = message.content;
    if (typeof content === 'string' && content !== '') {
      items.push({ role, content });
    } else if (Array.isArray(content)) {
      const parts = content.map((part: Json) =>
        part.type === 'image_url'
          ? { type: 'input_image', image_url: (part.image_url as Json).url, detail: 'auto' }
          : { type: role === 'assistant' ? 'output_text' : 'input_text', text: part.text },
      );
      items.push({ role, content: parts });
    }
    if (role === 'assistant' && Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as Json[]) {
        const fn = call.function as Json;
        items.push({ type: 'function_call', call_id: call.id, name: fn.name, arguments: fn.arguments });
      }
    }
  }
  return items;
}
