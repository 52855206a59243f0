import { at } from '@loom/common';
/**
 * ggml tensor element types as stored in GGUF tensor infos, with the block layout needed to compute a
 * tensor's byte size. Ids are ggml's `enum ggml_type` values and must never be renumbered.
 * Sizes: a row of `blockSize` elements takes `typeSize` bytes (quantised types pack a block of
 * 32 or 256 weights with their scales).
 */
export interface GgmlTypeInfo {
  id: number;
  name: string;
  blockSize: number;
  typeSize: number;
}

const TYPES: GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 18 },
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 20 },
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 22 },
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 24 },
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34 },
  { id: 9, name: 'Q8_1', blockSize: 32, typeSize: 36 },
  { id: 10, name: 'Q2_K', blockSize: 256, typeSize: 84 },
  { id: 11, name: 'Q3_K', blockSize: 256, typeSize: 110 },
  { id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144 },
  { id: 13, name: 'Q5_K', blockSize: 256, typeSize: 176 },
  { id: 14, name: 'Q6_K', blockSize: 256, typeSize: 210 },
  { id: 15, name: 'Q8_K', blockSize: 256, typeSize: 292 },
  { id: 16, name: 'IQ2_XXS', blockSize: 256, typeSize: 66 },
  { id: 17, name: 'IQ2_XS', blockSize: 256, typeSize: 74 },
  { id: 18, name: 'IQ3_XXS', blockSize: 256, typeSize: 98 },
  { id: 19, name: 'IQ1_S', blockSize: 256, typeSize: 50 },
  { id: 20, name: 'IQ4_NL', blockSize: 32, typeSize: 18 },
  { id: 21, name: 'IQ3_S', blockSize: 256, typeSize: 110 },
  { id: 22, name: 'IQ2_S', blockSize: 256, typeSize: 82 },
  { id: 23, name: 'IQ4_XS', blockSize: 256, typeSize: 136 },
  { id: 24, name: 'I8', blockSize: 1, typeSize: 1 },
  { id: 25, name: 'I16', blockSize: 1, typeSize: 2 },
  { id: 26, name: 'I32', blockSize: 1, typeSize: 4 },
  { id: 27, name: 'I64', blockSize: 1, typeSize: 8 },
  { id: 28, name: 'F64', blockSize: 1, typeSize: 8 },
  { id: 29, name: 'IQ1_M', blockSize: 256, typeSize: 56 },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2 },
  { id: 34, name: 'TQ1_0', blockSize: 256, typeSize: 54 },
  { id: 35, name: 'TQ2_0', blockSize: 256, typeSize: 66 },
  { id: 39, name: 'MXFP4', blockSize: 32, typeSize: 17 },
  { id: 40, name: 'NVFP4', blockSize: 64, typeSize: 36 },
  { id: 41, name: 'Q1_0', blockSize: 128, typeSize: 18 },
  { id: 42, name: 'Q2_0', blockSize: 64, typeSize: 18 },
];

/** ggml type ids by name, e.g. `GGML_TYPE.Q8_0 === 8`. */
export const GGML_TYPE: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(TYPES.map((t) => [t.name, t.id])),
);

const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** Layout of a ggml type, or undefined for ids ggml does not define. */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

/**
 * Bytes taken by a tensor of `shape` (ggml order: shape[0] is the contiguous row length) and `type`.
 * Throws for unknown types and for rows that are not a whole number of blocks.
 */
export function ggmlTensorBytes(type: number, shape: readonly number[]): number {
  const info = BY_ID.get(type);
  if (!info) throw new Error(`ggml type ${type} has no known block layout; add it to ggml-type.ts`);
  const rowLen = shape.length > 0 ? at(shape, 0) : 1;
  if (rowLen % info.blockSize !== 0) {
    throw new Error(`row length ${rowLen} is not a multiple of ${info.name}'s block size ${info.blockSize}`);
  }
  let rows = 1;
  for (let i = 1; i < shape.length; i++) rows *= at(shape, i);
  return (rowLen / info.blockSize) * info.typeSize * rows;
}
