/**
 * The determinism lint (DESIGN.md "Determinism is the product"): no wall
 * clock, Math.random, timers or promise races in src/ outside the CLI's
 * display code. Exits 1 and lists offending lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const FORBIDDEN = /\b(?:Math\.random|Date\.now|performance\.now|setTimeout|setInterval|setImmediate|process\.hrtime|queueMicrotask|Promise\.race|Promise\.any)\b|\bnew Date\(/;
const ALLOWED_DIR = join('src', 'cli');

export function findViolations(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const rel = relative(root, p);
        if (rel.startsWith(ALLOWED_DIR)) continue;
        readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
          if (/^\s*(\*|\/\*)/.test(line)) return; // doc comments
          const code = line.replace(/\/\/.*$/, '');
          if (FORBIDDEN.test(code)) out.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  walk(join(root, 'src'));
  return out;
}

if (process.argv[1]?.endsWith('check-determinism.ts')) {
  const v = findViolations(process.cwd());
  if (v.length > 0) {
    process.stderr.write(`determinism rule broken (wall clock / randomness / timers outside src/cli):\n${v.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('determinism lint: clean\n');
}
