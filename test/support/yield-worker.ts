/**
 * Lets the test worker's event loop turn between tests. Many tests run
 * simrun synchronously (spawnSync, in-process runs); a file of them can hold
 * the loop for more than a minute, and vitest's worker RPC (task updates to
 * the main process) times out when its replies cannot be read for 60 s.
 */
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((done) => { setImmediate(done); }));
