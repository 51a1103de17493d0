import { statSync } from 'node:fs';
import { InputError } from '../sim/errors.js';

/** What kind of thing is at `path` (stat only: never opens it, so a FIFO cannot block). */
function kindOf(path: string): 'missing' | 'file' | 'directory' | 'other' {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw new InputError(path, '', `cannot read it (${code ?? String(e)})`);
  }
}

/**
 * An input file (a trace or a scenario) must be a regular file: a directory
 * or a FIFO/device is bad input (exit 2) naming the path. A missing file is
 * left to the command, which names what it expected.
 */
export function checkReadableFile(path: string, what: 'trace' | 'scenario' | 'checkpoint'): void {
  const k = kindOf(path);
  if (k === 'missing') {
    if (what === 'trace') throw new InputError(path, '', 'trace file not found');
    return;
  }
  if (k === 'directory') throw new InputError(path, '', `is a directory, not a ${what} file`);
  if (k === 'other') throw new InputError(path, '', `is not a regular file (a FIFO, socket or device); give a ${what} file`);
}

/** An output path (--record, --html, -o) must not be a directory or a FIFO/device. */
export function checkWritablePath(path: string, option: string): void {
  if (path === '') return;
  const k = kindOf(path);
  if (k === 'directory') throw new InputError(path, '', `${option}: is a directory; give a file path`);
  if (k === 'other') throw new InputError(path, '', `${option}: is not a regular file (a FIFO, socket or device)`);
}
