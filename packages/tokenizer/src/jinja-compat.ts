/**
 * What @huggingface/jinja (0.5) lacks of Python's Jinja that real chat templates use in a plain chat,
 * filled in on its runtime value classes once, when chat-template.ts loads:
 *  - `str.format(*args)`: Tencent Hy3 builds its special tokens with `'<｜hy_eos{}｜>'.format(HYTK)`.
 *    Positional fields only (`{}`, `{0}`); `{{` / `}}` escape braces, as in Python.
 * The classes are not exported, so they are reached through values the exported Environment creates.
 * A library version that defines a builtin itself keeps its own (this only adds missing names).
 */
import { Environment } from '@huggingface/jinja';

interface RuntimeValue {
  value: unknown;
}
type FunctionValueClass = new (fn: (args: RuntimeValue[]) => RuntimeValue) => RuntimeValue;
type StringValueClass = new (value: string) => RuntimeValue;

/** Python's `str(x)` of a runtime value as format() needs it (strings, numbers, booleans, None). */
function pyStr(v: RuntimeValue | undefined): string {
  const x = v?.value;
  if (x === null || x === undefined) return 'None';
  if (typeof x === 'boolean') return x ? 'True' : 'False';
  return String(x);
}

/** Python's str.format with positional fields. */
export function pyFormat(template: string, args: readonly RuntimeValue[]): string {
  let next = 0;
  return template.replace(/\{\{|\}\}|\{(\d*)\}/g, (m: string, index: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const i = index === '' || index === undefined ? next++ : Number(index);
    if (i >= args.length) throw new Error(`format(): replacement index ${i} out of range for ${args.length} arguments`);
    return pyStr(args[i]);
  });
}

const env = new Environment();
const StringValue = env.set('s', '').constructor as StringValueClass;
const FunctionValue = env.set('f', () => undefined).constructor as FunctionValueClass;
const builtins = Object.getOwnPropertyDescriptor(StringValue.prototype, 'builtins');
if (!builtins?.get) throw new Error('@huggingface/jinja changed: StringValue has no builtins getter (jinja-compat.ts)');
Object.defineProperty(StringValue.prototype, 'builtins', {
  configurable: true,
  get(this: RuntimeValue) {
    const map = builtins.get!.call(this) as Map<string, RuntimeValue>;
    if (!map.has('format'))
      map.set('format', new FunctionValue((args) => new StringValue(pyFormat(String(this.value), args))));
    return map;
  },
});
