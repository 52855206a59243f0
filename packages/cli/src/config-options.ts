import { Command, InvalidArgumentError, Option } from 'commander';
import { OPTIONS, parseOption, type LoomConfig, type OptionSpec } from '@loom/common';

/** One commander Option per OPTIONS entry: flag, env twin, default, and typed parsing with a clear error. */
export function optionOf(spec: OptionSpec): Option {
  const opt = new Option(spec.flag, spec.description).env(spec.env);
  // An empty-string default means "not set": showing `(default: "")` in --help would only confuse.
  if (spec.default !== undefined && spec.default !== '') opt.default(spec.default);
  // Commander runs the parser on env values too, so LOOM_WORKERS=abc fails like --workers abc.
  if (spec.kind !== 'string' && spec.flag.includes('<')) {
    opt.argParser((raw: string) => {
      try {
        return parseOption(spec, raw);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
  }
  return opt;
}

/** Add every Loom setting to a command. */
export function addConfigOptions(cmd: Command): Command {
  for (const spec of OPTIONS) cmd.addOption(optionOf(spec));
  return cmd;
}

/** The LoomConfig a command was given (flags over env twins over defaults). Commander's attribute names are OPTIONS' keys. */
export function configOf(cmd: Command): LoomConfig {
  const opts = cmd.opts<Record<string, unknown>>();
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) out[spec.key] = opts[spec.key] ?? spec.default ?? '';
  return out as unknown as LoomConfig;
}

/** The environment that gives a child process exactly this config (its env twins). */
export function envOf(config: LoomConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of OPTIONS) env[spec.env] = String(config[spec.key]);
  return env;
}
