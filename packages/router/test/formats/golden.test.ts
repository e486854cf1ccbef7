/**
 * Golden transcripts for the inbound format adapters (fixtures/*.json, each naming the public
 * document its wire shapes come from): Anthropic Messages and OpenAI Responses requests → the
 * chat request a backend gets, and chat replies and chunk streams → the client's format.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Transcript, translateReply, translateRequest } from './golden.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const transcripts = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Transcript);

describe('format adapter golden transcripts', () => {
  it('has transcripts for both formats, JSON and streams', () => {
    expect(transcripts.filter((t) => t.format === 'messages' && 'chunks' in t.reply)).not.toHaveLength(0);
    expect(transcripts.filter((t) => t.format === 'responses' && 'chunks' in t.reply)).not.toHaveLength(0);
    expect(transcripts.filter((t) => 'json' in t.reply)).not.toHaveLength(0);
  });

  for (const transcript of transcripts) {
    describe(transcript.name, () => {
      it('turns the client request into the backend chat request', () => {
        expect(translateRequest(transcript)).toEqual(transcript.chat);
      });
      it('turns the backend chat reply into the client reply', () => {
        expect(translateReply(transcript)).toEqual(transcript.expected);
      });
    });
  }
});
