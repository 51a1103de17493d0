/**
 * The address renaming table of one device (normalise.ts): page number ->
 * the namespace it was first seen in and its index there. Open addressing
 * over typed arrays, so a lookup touches two flat arrays instead of a Map
 * entry and a record object (the diff looks a page up for every DMA
 * transfer and every address field, over thousands of distinct pages).
 */
import { grown } from '../../sim/grown.js';

/** Empty slot marker (page numbers are non-negative integers). */
const EMPTY = -1;

export class PageTable {
  /** Page number per slot, EMPTY where unused. */
  private keys: Float64Array;
  /** Record per slot. */
  private recs: Int32Array;
  private mask: number;
  /** Records, in order of first appearance: the page's namespace id and its index in that namespace. */
  private nsOf = new Int32Array(64);
  private idxOf = new Int32Array(64);
  /** Pages held. */
  size = 0;

  constructor() {
    this.keys = new Float64Array(64).fill(EMPTY);
    this.recs = new Int32Array(64);
    this.mask = 63;
  }

  /** Slot of `page`: where it is, or the empty slot where it would go. */
  private slot(page: number): number {
    const lo = page | 0;
    const hi = (page / 4294967296) | 0;
    let s = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    s = (s ^ (s >>> 15)) & this.mask;
    const keys = this.keys;
    for (;;) {
      const k = keys[s]!;
      if (k === page || k === EMPTY) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** The record of `page` (a non-negative safe integer), or -1. */
  get(page: number): number {
    const s = this.slot(page);
    return this.keys[s] === page ? this.recs[s]! : -1;
  }

  /** Adds `page` (not held yet) with its namespace id and index there; returns its record. */
  add(page: number, ns: number, idx: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash();
    const r = this.size++;
    if (r === this.nsOf.length) {
      this.nsOf = grown(this.nsOf, r * 2);
      this.idxOf = grown(this.idxOf, r * 2);
    }
    this.nsOf[r] = ns;
    this.idxOf[r] = idx;
    const s = this.slot(page);
    this.keys[s] = page;
    this.recs[s] = r;
    return r;
  }

  ns(r: number): number {
    return this.nsOf[r]!;
  }

  idx(r: number): number {
    return this.idxOf[r]!;
  }

  private rehash(): void {
    const keys = this.keys;
    const recs = this.recs;
    const n = (this.mask + 1) * 2;
    this.keys = new Float64Array(n).fill(EMPTY);
    this.recs = new Int32Array(n);
    this.mask = n - 1;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s]!;
      if (k === EMPTY) continue;
      const t = this.slot(k);
      this.keys[t] = k;
      this.recs[t] = recs[s]!;
    }
  }
}
