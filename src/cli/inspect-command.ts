import { checkReadableFile } from './paths.js';
import { runInspect } from '../trace/inspect.js';
import { deviceDecoders } from '../devices/decoders.js';
import { parseDuration } from '../sim/time.js';
import { InputError } from '../sim/errors.js';

export interface InspectArgs {
  trace: string;
  device?: string | undefined;
  kind?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  fromSeq?: number | undefined;
  toSeq?: number | undefined;
  limit?: number | undefined;
  json?: boolean | undefined;
}

function time(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const d = parseDuration(v);
  if (d === undefined) throw new InputError(`--${flag}`, '', `"${v}" is not a time such as 1ms, 250us or 42ps`);
  return d;
}

/** `simrun inspect`: exit 0, 1 when the trace is damaged (intact parts shown), 2 when unreadable. */
export function inspectCommand(a: InspectArgs): number {
  checkReadableFile(a.trace, 'trace');
  const r = runInspect({
    path: a.trace, device: a.device, kind: a.kind,
    fromTime: time('from', a.from), toTime: time('to', a.to), fromSeq: a.fromSeq, toSeq: a.toSeq, limit: a.limit,
    json: a.json, decoders: deviceDecoders(),
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  });
  return r.exitCode;
}
