/**
 * A minimal GGUF v3 writer (the llama.cpp model file format): header, typed metadata, tensor
 * infos, then F32 tensor data, each piece aligned as the format requires.
 * Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_VERSION = 3;
const GGML_TYPE_F32 = 0;

/** Metadata value types of the spec that we need. */
const ValueType = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; values: string[] }
  | { type: 'array'; itemType: 'u32' | 'i32' | 'f32'; values: number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions innermost first (ggml's `ne`): a [rows x cols] matrix is `[cols, rows]`. */
  dims: number[];
  data: Float32Array;
}

class ByteWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;

  private push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }

  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }

  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(buffer: Buffer): void {
    this.push(buffer);
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeScalar(w: ByteWriter, type: 'u32' | 'i32' | 'f32', value: number): void {
  if (type === 'u32') w.u32(value);
  else if (type === 'i32') w.i32(value);
  else w.f32(value);
}

function writeValue(w: ByteWriter, value: GgufValue): void {
  w.u32(ValueType[value.type]);
  switch (value.type) {
    case 'u32':
    case 'i32':
    case 'f32':
      writeScalar(w, value.type, value.value);
      return;
    case 'bool':
      w.bytes(Buffer.from([value.value ? 1 : 0]));
      return;
    case 'string':
      w.string(value.value);
      return;
    case 'array':
      w.u32(ValueType[value.itemType]);
      w.u64(value.values.length);
      if (value.itemType === 'string') for (const item of value.values) w.string(item);
      else for (const item of value.values) writeScalar(w, value.itemType, item);
  }
}

export function encodeGguf(metadata: [string, GgufValue][], tensors: GgufTensor[], alignment = 32): Buffer {
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(metadata.length + 1);
  w.string('general.alignment');
  writeValue(w, { type: 'u32', value: alignment });
  for (const [key, value] of metadata) {
    w.string(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    if (elements !== tensor.data.length) {
      throw new Error(
        `tensor ${tensor.name}: dims ${tensor.dims} need ${elements} values, got ${tensor.data.length}`,
      );
    }
    w.string(tensor.name);
    w.u32(tensor.dims.length);
    for (const dim of tensor.dims) w.u64(dim);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset += Math.ceil((elements * 4) / alignment) * alignment;
  }
  w.padTo(alignment);
  for (const tensor of tensors) {
    const bytes = Buffer.alloc(tensor.data.length * 4);
    for (const [index, value] of tensor.data.entries()) bytes.writeFloatLE(value, index * 4);
    w.bytes(bytes);
    w.padTo(alignment);
  }
  return w.toBuffer();
}
