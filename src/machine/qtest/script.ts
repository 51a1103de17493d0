/**
 * qtest scripts (written by `simrun export --qtest`, or by hand): one
 * command a line; `#` lines are comments, except
 *   `#< REPLY`             the reply the command above must get, exactly;
 *   `#! irq msi-vector V N` over the whole script, vector V was signalled N times;
 *   `#! irq intx-gsi G N`   IOAPIC pin G (simrun's numbering, as in traces) was raised N times.
 * A command without a `#<` line must get a reply starting with OK.
 * `replayScript` runs a script through a qtest server and reports the first
 * mismatch with its line number.
 */
import { ioapicIrqNumber, type QtestServer } from './protocol.js';

export interface ScriptCommand {
  /** 1-based line number in the script. */
  line: number;
  text: string;
  expect: string | undefined;
}

export interface QtestScript {
  commands: ScriptCommand[];
  /** Expected raise counts by IRQ number as the server reports them. */
  irqs: Map<number, number>;
  /** `# scenario: <path>` from the header, if any. */
  scenario: string | undefined;
}

export class ScriptError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

export function parseScript(text: string): QtestScript {
  const commands: ScriptCommand[] = [];
  const irqs = new Map<number, number>();
  let scenario: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const n = i + 1;
    if (l === '') continue;
    if (l.startsWith('#<')) {
      const last = commands[commands.length - 1];
      if (last === undefined) throw new ScriptError(n, '"#<" expectation before any command');
      if (last.expect !== undefined) throw new ScriptError(n, `second "#<" expectation for the command on line ${last.line}`);
      last.expect = l.slice(2).trimStart();
      continue;
    }
    if (l.startsWith('#!')) {
      const m = /^#!\s*irq\s+(msi-vector|intx-gsi)\s+(\d+)\s+(\d+)\s*$/.exec(l);
      if (m === null) throw new ScriptError(n, `unknown directive ${JSON.stringify(l.slice(0, 60))} (expected "#! irq msi-vector <vector> <count>" or "#! irq intx-gsi <pin> <count>")`);
      const num = m[1] === 'msi-vector' ? Number(m[2]) : ioapicIrqNumber(Number(m[2]));
      irqs.set(num, (irqs.get(num) ?? 0) + Number(m[3]));
      continue;
    }
    if (l.startsWith('#')) {
      const s = /^#\s*scenario:\s*(\S.*)$/.exec(l);
      if (s !== null && scenario === undefined) scenario = s[1]!.trim();
      continue;
    }
    commands.push({ line: n, text: l, expect: undefined });
  }
  return { commands, irqs, scenario };
}

export interface ScriptMismatch {
  line: number;
  command: string;
  expected: string;
  got: string;
}

export interface ReplayScriptResult {
  commands: number;
  checks: number;
  /** The first reply that differed, if any (the replay stops there). */
  mismatch: ScriptMismatch | undefined;
  /** IRQ raise counts that differ from the script's `#! irq` lines (checked only when every reply matched). */
  irqMismatches: string[];
  /** IRQ raises seen, by number. */
  irqs: Map<number, number>;
}

/** Sends each command to `server` (an in-process interpreter, or anything with the same `command`). */
export function replayScript(script: QtestScript, server: Pick<QtestServer, 'command'>): ReplayScriptResult {
  const irqs = new Map<number, number>();
  let checks = 0;
  let done = 0;
  for (const c of script.commands) {
    const lines = server.command(c.text);
    const reply = lines[lines.length - 1] ?? '';
    for (let i = 0; i < lines.length - 1; i++) {
      const m = /^IRQ raise (\d+)$/.exec(lines[i]!);
      if (m !== null) irqs.set(Number(m[1]), (irqs.get(Number(m[1])) ?? 0) + 1);
    }
    done++;
    const ok = c.expect !== undefined ? reply === c.expect : reply === 'OK' || reply.startsWith('OK ');
    if (c.expect !== undefined) checks++;
    if (!ok) {
      return { commands: done, checks, mismatch: { line: c.line, command: c.text, expected: c.expect ?? 'OK ...', got: reply }, irqMismatches: [], irqs };
    }
  }
  const irqMismatches: string[] = [];
  for (const [n, want] of [...script.irqs].sort((a, b) => a[0] - b[0])) {
    const got = irqs.get(n) ?? 0;
    if (got !== want) irqMismatches.push(`IRQ ${n}: ${want} raise${want === 1 ? '' : 's'} recorded, ${got} seen`);
  }
  return { commands: done, checks, mismatch: undefined, irqMismatches, irqs };
}
