/**
 * GGUF quantization labels, exactly as the upstream contract (§4) orders them. Two orders
 * matter: the detection order (BF16 before F16, so "BF16" files are not read as F16) and the
 * quality order that `gguf_policy` ranks by.
 */

/** Checked in this order; the first label found as a substring of the upper-cased filename wins. */
export const QUANT_DETECTION_ORDER = [
  'BF16',
  'F32',
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
] as const;

export type QuantLabel = (typeof QUANT_DETECTION_ORDER)[number];

/** Best first. `quality` picks the lowest rank; labels not in the list rank 999. */
export const QUALITY_ORDER: readonly QuantLabel[] = [
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
];

export const UNKNOWN_RANK = 999;

/** `speed` only considers labels from F32 down to Q4_0 (inclusive) while any exists. */
export const SPEED_LABELS: ReadonlySet<QuantLabel> = new Set(
  QUALITY_ORDER.slice(0, QUALITY_ORDER.indexOf('Q4_0') + 1),
);

/** Unquantized labels `llama-quantize` can start from. */
export const QUANTIZE_SOURCE_LABELS: ReadonlySet<QuantLabel> = new Set(['F32', 'BF16', 'F16']);

export function quantLabel(filename: string): QuantLabel | null {
  const upper = filename.toUpperCase();
  return QUANT_DETECTION_ORDER.find((label) => upper.includes(label)) ?? null;
}

/** Matches a `quantization` parameter to a known label, case-insensitively. */
export function parseQuantization(value: string): QuantLabel | null {
  const upper = value.trim().toUpperCase();
  return QUANT_DETECTION_ORDER.find((label) => label === upper) ?? null;
}

export function qualityRank(label: QuantLabel | null): number {
  if (label === null) return UNKNOWN_RANK;
  const rank = QUALITY_ORDER.indexOf(label);
  return rank < 0 ? UNKNOWN_RANK : rank;
}

/** Rough bits per weight of each label, to estimate a quantization's output size up front. */
const APPROX_BITS_PER_WEIGHT: Record<QuantLabel, number> = {
  F32: 32,
  BF16: 16,
  F16: 16,
  Q8_0: 8.5,
  Q6_K: 6.56,
  Q5_K_M: 5.69,
  Q5_K_S: 5.54,
  Q5_0: 5.5,
  Q4_K_M: 4.89,
  Q4_K_S: 4.58,
  Q4_0: 4.5,
  Q3_K_M: 3.91,
  Q3_K_S: 3.5,
  Q2_K: 3.35,
  IQ4_XS: 4.25,
  IQ3_M: 3.66,
  IQ2_M: 2.7,
};

/** The expected size of `sourceBytes` of `from` quantized to `to`. */
export function estimateQuantizedBytes(sourceBytes: number, from: QuantLabel, to: QuantLabel): number {
  return Math.ceil((sourceBytes * APPROX_BITS_PER_WEIGHT[to]) / APPROX_BITS_PER_WEIGHT[from]);
}
