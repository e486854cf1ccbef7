/**
 * Google Gemini API (`generateContent`, `streamGenerateContent?alt=sse`, `batchEmbedContents`)
 * behind `google:`. The key travels in `x-goog-api-key`, never in the URL, so it cannot leak
 * into logs of URLs.
 */
import { readChatRequest } from '../chat-request.js';
import { isRecord } from '../errors.js';
import type { CloudProvider } from '../provider.js';
import { geminiEmbeddings } from './embeddings.js';
import { googleError } from './errors.js';
import { geminiModelPath, toGeminiRequest } from './request.js';
import { fromGeminiResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';

const LISTED_METHODS = ['generateContent', 'embedContent', 'batchEmbedContents'];

function modelIds(json: unknown): string[] {
  if (!isRecord(json) || !Array.isArray(json.models)) return [];
  return json.models.flatMap((entry) => {
    if (!isRecord(entry) || typeof entry.name !== 'string') return [];
    const methods = entry.supportedGenerationMethods;
    if (Array.isArray(methods) && !methods.some((method) => LISTED_METHODS.includes(method))) return [];
    return [entry.name.replace(/^models\//, '')];
  });
}

export const googleProvider: CloudProvider = {
  name: 'google',
  passthrough: false,
  headers: (apiKey) => ({ 'x-goog-api-key': apiKey }),
  translateRequest: ({ model, body }) => {
    const chat = readChatRequest(body);
    const path = geminiModelPath(model);
    return {
      method: 'POST',
      path: chat.stream ? `/${path}:streamGenerateContent?alt=sse` : `/${path}:generateContent`,
      body: JSON.stringify(toGeminiRequest(chat, path.replace(/^models\//, ''))),
    };
  },
  translateResponse: fromGeminiResponse,
  translateStream: (context) => new GeminiStreamTranslator(context),
  mapError: googleError,
  embeddings: geminiEmbeddings,
  models: { call: { method: 'GET', path: '/models?pageSize=1000' }, parse: modelIds },
};
