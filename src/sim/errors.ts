/**
 * Bad input (scenario and machine files, traces, firmware images, CLI
 * arguments). The CLI prints the message and exits with code 2. The message
 * names the file and the field or byte offset, and what to do.
 */
export class InputError extends Error {
  constructor(readonly file: string, readonly field: string, message: string) {
    super(`${file}${field ? `: ${field}` : ''}: ${message}`);
    this.name = 'InputError';
  }
}
