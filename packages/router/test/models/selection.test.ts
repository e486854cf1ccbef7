/** The registration rules of contract §4 as pure functions: labels, formats, gguf_policy, safetensors, ids. */
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/http/errors.js';
import { modelIdFromSegments, parseRegistryPath, parseRepoInput } from '../../src/models/ids.js';
import {
  parseQuantization,
  QUALITY_ORDER,
  QUANT_DETECTION_ORDER,
  quantLabel,
} from '../../src/models/quant.js';
import {
  applyPolicy,
  chooseFormat,
  chooseGguf,
  chooseSafetensors,
  ggufCandidates,
  type HubFile,
  shardsOfIndex,
} from '../../src/models/selection.js';

const file = (path: string, size: number | null = 100): HubFile => ({
  path,
  size,
  sha256: null,
  gitSha1: null,
});

function httpError(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

const expect400 = (fn: () => unknown, code: string) => {
  const error = httpError(fn);
  expect(error.status).toBe(400);
  expect(error.code).toBe(code);
  return error;
};

const pick = (files: HubFile[], policy: 'quality' | 'memory' | 'speed') =>
  chooseGguf(files, { gguf_policy: policy, canQuantize: false });
const picked = (files: HubFile[], policy: 'quality' | 'memory' | 'speed') => {
  const choice = pick(files, policy);
  if (choice.kind !== 'file') throw new Error('expected a file choice');
  return choice.candidate.filename;
};

describe('quant labels', () => {
  it('keeps the contract order: BF16 before F16 in detection, F32 first in quality', () => {
    expect(QUANT_DETECTION_ORDER.slice(0, 3)).toEqual(['BF16', 'F32', 'F16']);
    expect(QUALITY_ORDER).toEqual([
      'F32',
      'BF16',
      'F16',
      'Q8_0',
      'Q6_K',
      'Q5_K_M',
      'Q5_K_S',
      'Q5_0',
      'Q4_K_M',
      'Q4_K_S',
      'Q4_0',
      'Q3_K_M',
      'Q3_K_S',
      'Q2_K',
      'IQ4_XS',
      'IQ3_M',
      'IQ2_M',
    ]);
  });

  it('takes the first label found in the upper-cased filename', () => {
    expect(quantLabel('llama-3-8b.bf16.gguf')).toBe('BF16');
    expect(quantLabel('model-f16.gguf')).toBe('F16');
    expect(quantLabel('model-Q4_K_M.gguf')).toBe('Q4_K_M');
    expect(quantLabel('model-q5_k_s.gguf')).toBe('Q5_K_S');
    expect(quantLabel('model-IQ4_XS.gguf')).toBe('IQ4_XS');
    expect(quantLabel('model-IQ2_M.gguf')).toBe('IQ2_M');
    expect(quantLabel('stories260K.gguf')).toBeNull();
  });

  it('matches the quantization parameter case-insensitively and rejects unknown labels', () => {
    expect(parseQuantization('q4_k_m')).toBe('Q4_K_M');
    expect(parseQuantization(' Bf16 ')).toBe('BF16');
    expect(parseQuantization('Q4')).toBeNull();
  });
});

describe('format', () => {
  it('rejects a repo with neither format', () => {
    expect400(() => chooseFormat([file('README.md')], undefined), 'no_model_files');
  });

  it('requires format when both exist, and checks a given format exists', () => {
    const both = [file('a.gguf'), file('model.safetensors')];
    expect400(() => chooseFormat(both, undefined), 'format_required');
    expect(chooseFormat(both, 'gguf')).toBe('gguf');
    expect(chooseFormat(both, 'safetensors')).toBe('safetensors');
    expect400(() => chooseFormat([file('a.gguf')], 'safetensors'), 'format_unavailable');
    expect400(() => chooseFormat([file('model.safetensors')], 'gguf'), 'format_unavailable');
  });

  it('defaults to safetensors when present, else gguf', () => {
    expect(chooseFormat([file('model.safetensors.index.json')], undefined)).toBe('safetensors');
    expect(chooseFormat([file('a.gguf')], undefined)).toBe('gguf');
  });
});

describe('gguf_policy', () => {
  const repo = [
    file('m-Q4_K_M.gguf', 400),
    file('m-F16.gguf', 1600),
    file('m-BF16.gguf', 1600),
    file('m-F32.gguf', 3200),
    file('m-Q2_K.gguf', 200),
    file('m-Q8_0.gguf', 800),
    file('README.md', 10),
  ];

  it('quality picks the best label: F32 < BF16 < F16 < Q8_0 …', () => {
    expect(picked(repo, 'quality')).toBe('m-F32.gguf');
    expect(
      picked(
        repo.filter((f) => !f.path.includes('F32')),
        'quality',
      ),
    ).toBe('m-BF16.gguf');
    expect(picked([file('m-Q6_K.gguf'), file('m-Q8_0.gguf'), file('m-Q5_K_M.gguf')], 'quality')).toBe(
      'm-Q8_0.gguf',
    );
    expect(picked([file('m-IQ2_M.gguf'), file('m-IQ4_XS.gguf'), file('m-Q2_K.gguf')], 'quality')).toBe(
      'm-Q2_K.gguf',
    );
  });

  it('quality ranks unknown labels last and breaks ties by larger file, then name', () => {
    expect(picked([file('plain.gguf', 9000), file('m-IQ2_M.gguf', 10)], 'quality')).toBe('m-IQ2_M.gguf');
    expect(picked([file('a-Q4_0.gguf', 100), file('b-Q4_0.gguf', 300)], 'quality')).toBe('b-Q4_0.gguf');
    expect(picked([file('b-Q4_0.gguf', 300), file('a-Q4_0.gguf', 300)], 'quality')).toBe('a-Q4_0.gguf');
  });

  it('memory picks the smallest file, ties by name', () => {
    expect(picked(repo, 'memory')).toBe('m-Q2_K.gguf');
    expect(picked([file('b.gguf', 5), file('a.gguf', 5), file('c.gguf', 9)], 'memory')).toBe('a.gguf');
  });

  it('speed picks the smallest F32…Q4_0 file, else the smallest of all', () => {
    expect(picked(repo, 'speed')).toBe('m-Q4_K_M.gguf');
    expect(
      picked([file('m-Q4_0.gguf', 500), file('m-Q4_K_S.gguf', 450), file('m-Q3_K_M.gguf', 300)], 'speed'),
    ).toBe('m-Q4_K_S.gguf');
    expect(
      picked([file('m-Q3_K_M.gguf', 300), file('m-Q2_K.gguf', 200), file('m-IQ2_M.gguf', 250)], 'speed'),
    ).toBe('m-Q2_K.gguf');
  });

  it('never picks a vision projector by policy', () => {
    const vision = [file('mmproj-model-f16.gguf', 10), file('model-Q4_K_M.gguf', 400)];
    expect(picked(vision, 'memory')).toBe('model-Q4_K_M.gguf');
    expect(picked(vision, 'quality')).toBe('model-Q4_K_M.gguf');
  });

  it('treats a split GGUF as one candidate with the size of all its parts', () => {
    const split = [
      file('big-Q8_0-00002-of-00002.gguf', 150),
      file('big-Q8_0-00001-of-00002.gguf', 150),
      file('small-Q4_K_M.gguf', 200),
      file('broken-F16-00001-of-00003.gguf', 10),
    ];
    const candidates = ggufCandidates(split);
    expect(candidates.map((c) => [c.filename, c.size, c.parts.length])).toEqual([
      ['big-Q8_0-00001-of-00002.gguf', 300, 2],
      ['small-Q4_K_M.gguf', 200, 1],
    ]);
    expect(applyPolicy(candidates, 'memory').filename).toBe('small-Q4_K_M.gguf');
    expect(applyPolicy(candidates, 'quality').filename).toBe('big-Q8_0-00001-of-00002.gguf');
  });
});

describe('gguf filename and quantization', () => {
  const repo = [
    file('m-Q4_K_M.gguf', 400),
    file('m-Q4_K_M-imat.gguf', 410),
    file('m-F16.gguf', 1600),
    file('m-BF16.gguf', 1500),
  ];

  it('checks the filename extension, existence and agreement with quantization', () => {
    expect400(() => chooseGguf(repo, { filename: 'm.safetensors', canQuantize: false }), 'invalid_filename');
    expect400(() => chooseGguf(repo, { filename: 'nope.gguf', canQuantize: false }), 'file_not_found');
    expect400(
      () => chooseGguf(repo, { filename: 'm-F16.gguf', quantization: 'q4_k_m', canQuantize: false }),
      'quantization_mismatch',
    );
    const ok = chooseGguf(repo, { filename: 'm-Q4_K_M.gguf', quantization: 'q4_k_m', canQuantize: false });
    expect(ok).toMatchObject({ kind: 'file', label: 'Q4_K_M', candidate: { filename: 'm-Q4_K_M.gguf' } });
  });

  it('quantization alone picks the first matching file in repo order', () => {
    const choice = chooseGguf(repo, { quantization: 'Q4_K_M', canQuantize: false });
    expect(choice).toMatchObject({ kind: 'file', candidate: { filename: 'm-Q4_K_M.gguf' } });
  });

  it('requires gguf_policy without filename or quantization, and rejects unknown labels', () => {
    expect400(() => chooseGguf(repo, { canQuantize: false }), 'gguf_policy_required');
    expect400(() => chooseGguf(repo, { quantization: 'Q9_Z', canQuantize: false }), 'invalid_quantization');
  });

  it('plans a quantization from the smallest unquantized GGUF only when the tool is configured', () => {
    expect400(() => chooseGguf(repo, { quantization: 'Q2_K', canQuantize: false }), 'quantize_unavailable');
    const choice = chooseGguf(repo, { quantization: 'q2_k', canQuantize: true });
    expect(choice).toMatchObject({ kind: 'quantize', target: 'Q2_K', source: { filename: 'm-BF16.gguf' } });
    expect400(
      () => chooseGguf([file('m-Q4_K_M.gguf')], { quantization: 'Q2_K', canQuantize: true }),
      'quantization_not_found',
    );
  });
});

describe('safetensors', () => {
  const meta = [file('config.json'), file('tokenizer.json')];

  it('requires config.json and tokenizer.json', () => {
    const error = expect400(
      () => chooseSafetensors([file('config.json'), file('model.safetensors')], undefined),
      'safetensors_metadata_missing',
    );
    expect(error.message).toContain('tokenizer.json');
  });

  it('uses the one index, rejects several, else the one .safetensors', () => {
    const index = [...meta, file('model.safetensors.index.json'), file('model-00001-of-00002.safetensors')];
    expect(chooseSafetensors(index, undefined)).toMatchObject({
      isIndex: true,
      primary: { path: 'model.safetensors.index.json' },
    });
    expect400(
      () => chooseSafetensors([...index, file('consolidated.safetensors.index.json')], undefined),
      'ambiguous_filename',
    );
    expect(chooseSafetensors([...meta, file('model.safetensors')], undefined)).toMatchObject({
      isIndex: false,
    });
    expect400(
      () => chooseSafetensors([...meta, file('a.safetensors'), file('b.safetensors')], undefined),
      'ambiguous_filename',
    );
    expect400(() => chooseSafetensors(meta, undefined), 'no_model_files');
  });

  it('checks a given filename', () => {
    const repo = [...meta, file('a.safetensors'), file('b.safetensors')];
    expect(chooseSafetensors(repo, 'b.safetensors')).toMatchObject({ primary: { path: 'b.safetensors' } });
    expect400(() => chooseSafetensors(repo, 'a.bin'), 'invalid_filename');
    expect400(() => chooseSafetensors(repo, 'c.safetensors'), 'file_not_found');
  });

  it('resolves index shards and rejects missing or escaping ones', () => {
    const repo = [
      file('sub/m.safetensors.index.json'),
      file('sub/s1.safetensors'),
      file('sub/s2.safetensors'),
    ];
    const index = { weight_map: { a: 's2.safetensors', b: 's1.safetensors', c: 's1.safetensors' } };
    expect(shardsOfIndex('sub/m.safetensors.index.json', index, repo).map((f) => f.path)).toEqual([
      'sub/s1.safetensors',
      'sub/s2.safetensors',
    ]);
    expect400(
      () => shardsOfIndex('sub/m.safetensors.index.json', { weight_map: { a: 's3.safetensors' } }, repo),
      'invalid_index',
    );
    expect400(
      () => shardsOfIndex('sub/m.safetensors.index.json', { weight_map: { a: '../x.safetensors' } }, repo),
      'invalid_index',
    );
    expect400(() => shardsOfIndex('sub/m.safetensors.index.json', { nope: 1 }, repo), 'invalid_index');
  });
});

describe('model ids', () => {
  const base = 'http://127.0.0.1:9999/mirror';

  it('keeps the repo case for the hub and lowercases the id', () => {
    expect(parseRepoInput('TheBloke/Llama-2-7B-GGUF', base)).toEqual({
      repo: 'TheBloke/Llama-2-7B-GGUF',
      id: 'thebloke/llama-2-7b-gguf',
    });
  });

  it('normalises hub URLs, also under HF_BASE_URL', () => {
    expect(parseRepoInput('https://huggingface.co/org/Name', base).repo).toBe('org/Name');
    expect(parseRepoInput('https://huggingface.co/org/name/resolve/main/x-Q4_K_M.gguf', base).repo).toBe(
      'org/name',
    );
    expect(parseRepoInput('huggingface.co/org/name/tree/main', base).repo).toBe('org/name');
    expect(parseRepoInput('https://hf.co/org/name', base).repo).toBe('org/name');
    expect(parseRepoInput(`${base}/org/name/blob/main/README.md`, base).repo).toBe('org/name');
  });

  it('rejects other hosts, datasets and invalid names', () => {
    for (const bad of [
      'https://example.com/org/name',
      'https://huggingface.co/datasets/org/x',
      'org/../x',
      'a/b/c',
      'org/na me',
      '/org/name',
      'org/',
      '',
    ]) {
      expect(httpError(() => parseRepoInput(bad, base)).status).toBe(400);
    }
  });

  it('accepts route ids nested or encoded, and answers traversal with 400', () => {
    expect(modelIdFromSegments(['org', 'name'])).toBe('org/name');
    expect(modelIdFromSegments(['org%2Fname'])).toBe('org/name');
    expect(modelIdFromSegments(['Org%2FName'])).toBe('org/name');
    for (const attempt of [
      ['..'],
      ['org', '..'],
      ['%2e%2e'],
      ['org%2F..%2F..'],
      ['a%5Cb'],
      ['a%00'],
      ['%2Fetc'],
      ['a%2F'],
      ['.hidden'],
      ['%252e%252e'],
      ['org', ''],
      ['%zz'],
    ]) {
      expect(httpError(() => modelIdFromSegments(attempt)).status).toBe(400);
    }
  });

  it('parses registry paths and answers traversal in model or file with 400', () => {
    expect(parseRegistryPath(['org', 'name', 'manifest.json'])).toEqual({
      kind: 'manifest',
      modelId: 'org/name',
    });
    expect(parseRegistryPath(['org%2Fname', 'files', 'model.gguf'])).toEqual({
      kind: 'file',
      modelId: 'org/name',
      file: 'model.gguf',
    });
    expect(parseRegistryPath(['org', 'name', 'other'])).toBeNull();
    const attempts = [
      ['org', 'name', 'files', '..'],
      ['org', 'name', 'files', '%2e%2e'],
      ['org', 'name', 'files', '..%2F..%2Fetc%2Fpasswd'],
      ['org', 'name', 'files', 'a%2Fb'],
      ['org', 'name', 'files', 'a%5Cb'],
      ['org', 'name', 'files', 'model.gguf%00'],
      ['org', 'name', 'files', '.model.gguf.part'],
      ['org', 'name', 'files', 'sub', 'x'],
      ['..', 'manifest.json'],
      ['%2e%2e', '%2e%2e', 'manifest.json'],
      ['org', '..', '..', 'files', 'x'],
      ['..', '..', 'etc', 'passwd'],
      ['%2e%2e', 'x'],
    ];
    for (const attempt of attempts)
      expect(httpError(() => parseRegistryPath(attempt)).status, attempt.join('/')).toBe(400);
  });
});
