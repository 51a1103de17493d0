import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The checkout holding `dir`: the nearest folder above it with a
 * package.json (bench modules run from bench/ and, bundled, from dist/cli/).
 */
export function checkoutRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}
