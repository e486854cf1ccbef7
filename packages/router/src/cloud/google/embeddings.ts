/**
 * OpenAI embeddings ↔ Gemini `batchEmbedContents` (one request per input string). Gemini only
 * returns floats; when the client asks for `encoding_format: "base64"` (the openai SDK's
 * default) the floats are packed as little-endian float32, which is what that SDK decodes.
 */
import { CloudError, invalidRequest, isRecord } from '../errors.js';
import type { EmbeddingsTranslation } from '../provider.js';
import { geminiModelPath } from './request.js';

function inputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string'))
    return input;
  throw invalidRequest("'input' must be a string or an array of strings for google: models", 'input');
}

export function float32Base64(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString('base64');
}

export const geminiEmbeddings: EmbeddingsTranslation = {
  translateRequest: ({ model, body }) => {
    const path = geminiModelPath(model);
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : undefined;
    const requests = inputs(body.input).map((text) => ({
      model: path,
      content: { role: 'user', parts: [{ text }] },
      ...(dimensions !== undefined ? { outputDimensionality: dimensions } : {}),
    }));
    return { method: 'POST', path: `/${path}:batchEmbedContents`, body: JSON.stringify({ requests }) };
  },
  translateResponse: (json, context) => {
    const embeddings = isRecord(json) && Array.isArray(json.embeddings) ? json.embeddings : undefined;
    if (!embeddings)
      throw new CloudError(502, 'google: the reply has no embeddings', 'upstream_invalid_response');
    const data = embeddings.map((entry, index) => {
      const values = isRecord(entry) && Array.isArray(entry.values) ? (entry.values as number[]) : [];
      return {
        object: 'embedding',
        index,
        embedding: context.encodingFormat === 'base64' ? float32Base64(values) : values,
      };
    });
    // batchEmbedContents reports no token counts.
    return { object: 'list', data, model: context.publicModel, usage: { prompt_tokens: 0, total_tokens: 0 } };
  },
};
