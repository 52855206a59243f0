import { at } from '@loom/common';

/** max |a - b| / max |b|: the error of `a` on the scale of `b` (logits compared row by row). */
export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length}`);
  let err = 0,
    scale = 0;
  b.forEach((y, i) => {
    err = Math.max(err, Math.abs(at(a, i) - y));
    scale = Math.max(scale, Math.abs(y));
  });
  return err / scale;
}
