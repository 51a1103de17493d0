/**
 * Disk-image bytes a format-6 trace references instead of storing
 * (Rec.DmaImage): the fixture file named in the header, found beside the
 * trace and checked against the header's SHA-256 before any byte is used.
 *
 * Where a fixture `fixtures/disks/a.img` is looked for, first match wins:
 * each directory in `roots` (given by the caller, then `--image-dir` folders;
 * the fixture path and its file name are both tried there), the files that
 * scenarios this process ran or loaded name so (addImageFile), then the trace's folder
 * and every folder above it joined with the fixture path (a trace in
 * `traces/` of a checkout finds `fixtures/disks/a.img` of that checkout),
 * then a file of the same name beside the trace, then the roots of the
 * scenarios this process ran (addImageRoot), then the current folder and
 * those above it. A file whose hash differs
 * is skipped (it is another version of the image). Each image is read and
 * hashed once per store.
 */
import { existsSync, statSync } from 'node:fs';
import { hostFileBytes, hostFileSha256 } from '../sim/host-files.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { TraceHeader } from './format.js';

/** Folders searched before a trace's own for every store (the CLI's --image-dir). */
let defaultRoots: readonly string[] = [];
export function setImageRoots(dirs: readonly string[]): void {
  defaultRoots = [...dirs];
}

/**
 * Scenario roots this process ran or loaded (the folder holding `fixtures/`):
 * a trace recorded to a temporary file by `check` or `bisect` finds its
 * images there. Searched after the trace's own folders. Safe to add to: a
 * file is used only when its hash is the header's.
 */
const knownRoots: string[] = [];
export function addImageRoot(dir: string): void {
  const abs = resolve(dir);
  if (!knownRoots.includes(abs)) knownRoots.push(abs);
}

/**
 * Files a scenario this process ran or loaded names as fixture `name` (an
 * image outside the scenario root is named by its file name alone): tried
 * right after the caller's roots.
 */
const knownFiles = new Map<string, string[]>();
export function addImageFile(name: string, file: string): void {
  const abs = resolve(file);
  const list = knownFiles.get(name);
  if (list === undefined) knownFiles.set(name, [abs]);
  else if (!list.includes(abs)) list.push(abs);
}

export type ImageLookup = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/**
 * The stores opened last in this process. A trace naming an image it cannot
 * find asks them for a fixture with the same hash under their own names: a
 * diff of a golden trace and one recorded from a scenario in another folder
 * names the same image differently.
 */
const recentStores: ImageStore[] = [];
const RECENT_STORES = 16;

/** Forgets the stores opened so far (tests that must not find an image through an earlier one). */
export function forgetImageStores(): void {
  recentStores.length = 0;
}

export class ImageStore {
  private readonly found = new Map<string, ImageLookup>();
  private asking = false;

  /**
   * `tracePath`: the trace file (undefined for an in-memory trace: the
   * current directory stands in for its folder).
   */
  private readonly roots: readonly string[];
  constructor(private readonly header: TraceHeader, private readonly tracePath: string | undefined, roots: readonly string[] = []) {
    this.roots = [...roots, ...defaultRoots];
    recentStores.push(this);
    if (recentStores.length > RECENT_STORES) recentStores.shift();
  }

  /** The bytes of fixture `name` (as in the header), or why they are not available. */
  image(name: string): ImageLookup {
    let r = this.found.get(name);
    if (r === undefined) {
      r = this.locate(name);
      if (!r.ok) r = this.fromPeers(name) ?? r;
      this.found.set(name, r);
    }
    return r;
  }

  /** The same image (by hash) as another open trace found it under its own name. */
  private fromPeers(name: string): ImageLookup | undefined {
    const hash = this.header.fixtures.find((f) => f.path === name)?.hash;
    if (hash === undefined || this.asking) return undefined;
    this.asking = true;
    try {
      for (const peer of recentStores) {
        if (peer === this) continue;
        const theirs = peer.header.fixtures.find((f) => f.hash === hash);
        if (theirs === undefined) continue;
        const r = peer.image(theirs.path);
        if (r.ok) return r;
      }
      return undefined;
    } finally {
      this.asking = false;
    }
  }

  private locate(name: string): ImageLookup {
    const entry = this.header.fixtures.find((f) => f.path === name);
    if (entry === undefined) return { ok: false, reason: `disk image ${name} is not in the trace header's fixture list` };
    const tried: string[] = [];
    for (const file of this.candidates(name)) {
      if (tried.includes(file)) continue;
      tried.push(file);
      if (!existsSync(file) || !statSync(file).isFile()) continue;
      if (hostFileSha256(file) === entry.hash) return { ok: true, bytes: hostFileBytes(file) };
    }
    return {
      ok: false,
      reason: `disk image ${name} (sha256 ${entry.hash.slice(0, 16)}…) was not found with that content; looked at ${tried.slice(0, 4).join(', ')}${tried.length > 4 ? ', …' : ''}`,
    };
  }

  private *candidates(name: string): Generator<string> {
    for (const r of this.roots) {
      yield resolve(r, name);
      yield resolve(r, basename(name));
    }
    yield* knownFiles.get(name) ?? [];
    let dir = this.tracePath === undefined ? process.cwd() : dirname(resolve(this.tracePath));
    for (;;) {
      yield join(dir, name);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const here = this.tracePath === undefined ? process.cwd() : dirname(resolve(this.tracePath));
    yield join(here, basename(name));
    for (const r of knownRoots) yield join(r, name);
    for (let dir = process.cwd(); ; dir = dirname(dir)) {
      yield join(dir, name);
      if (dirname(dir) === dir) break;
    }
  }
}
