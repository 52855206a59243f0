/** Float32Array is host-endian: the codec below holds only on little-endian hosts (every one Node runs on). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * An embedding as it travels in output events and as OpenAI's `encoding_format: "base64"` returns it:
 * the float32 values, little-endian, base64-encoded (what numpy's frombuffer(dtype=float32) and the
 * openai clients decode).
 */
export function encodeEmbedding(values: ArrayLike<number>): string {
  const f = Float32Array.from(values);
  if (!LITTLE_ENDIAN) throw new Error('embeddings are written little-endian; this host is big-endian');
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

/** The float32 values of an encodeEmbedding string. */
export function decodeEmbedding(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.byteLength % 4 !== 0) throw new Error(`an embedding of ${bytes.byteLength} bytes is not whole float32s`);
  if (!LITTLE_ENDIAN) throw new Error('embeddings are read little-endian; this host is big-endian');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
