/**
 * The trace writer thread: assembles, compresses and writes the chunks of
 * recordings that ask for it (RecorderOptions.writerThread,
 * SIMRUN_TRACE_THREAD) while the simulation goes on, so that recording costs
 * the simulating thread little more than staging each event's numbers. It
 * is off by default: on a 2-core machine the two threads slow each other
 * about as much as the handover saves (README "Traces").
 *
 * One worker thread per process, started by the first recorder that wants
 * it ('always'; with 'auto', the first recording that grows long) and
 * shared by every recorder after. A
 * recorder hands it whole chunks: its encoder stages them in shared memory
 * (columns.ts ChunkStage), in turn among STAGES stages, so handing one over
 * is a small message and nothing is copied. The thread assembles and seals
 * each chunk with the same code the recorder runs itself (ChunkAssembler,
 * sealChunk), so a trace is byte-for-byte the same whichever thread wrote
 * its chunks. Chunks of one recorder are written in the order handed over:
 * to its file directly, or posted back for a trace kept in memory.
 *
 * The simulating thread never waits for the event loop: it reads replies
 * with receiveMessageOnPort and waits with Atomics.wait on a counter the
 * thread bumps after each chunk, only when every stage is in use (the thread
 * is behind) and when the recorder closes.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startWorker } from '../sim/worker-start.js';
import { newChunkStage, type ChunkStage } from './columns.js';

/** Stages per recorder: one being filled, up to STAGES - 1 with the thread (slack for a thread that is not scheduled for a while). */
const STAGES = 8;
/** The worker's bundled twin, next to the bundled CLI (bin/build-cli.mjs). */
export const WRITER_BUNDLE_NAME = 'trace-writer.mjs';

/** Thread state word: 0 starting, 1 ready, -1 could not start (recorders then write their chunks themselves). */
const READY = 1, FAILED = -1;

let state: Int32Array | undefined;
let worker: Worker | undefined;

/** Starts the writer thread if it is not started (returns at once). */
export function startWriterThread(): void {
  if (state !== undefined) return;
  state = new Int32Array(new SharedArrayBuffer(4));
  const failed = 'Atomics.store(workerData.state, 0, -1); Atomics.notify(workerData.state, 0)';
  try {
    worker = startWorker(import.meta.url, './writer-worker.ts', WRITER_BUNDLE_NAME, { state }, failed);
  } catch {
    Atomics.store(state, 0, FAILED);
    return;
  }
  worker.on('error', () => { if (state !== undefined) Atomics.store(state, 0, FAILED); });
  // The thread never keeps the process alive: a recorder waits for its chunks when it closes.
  worker.unref();
}

/** Whether the writer thread can take chunks now (started and loaded). */
export function writerThreadReady(): boolean {
  return state !== undefined && Atomics.load(state, 0) === READY;
}

/** Starts the writer thread and waits until it is loaded; false if it could not start. */
export function awaitWriterThread(): boolean {
  startWriterThread();
  const s = state!;
  while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0);
  return Atomics.load(s, 0) === READY;
}

/** What the thread reports for each chunk, in the order they were handed over. */
export interface ChunkReply {
  rawLen: number;
  compLen: number;
  /** Chunk header and block, for a trace kept in memory. */
  bytes?: Uint8Array;
  /** Why the chunk could not be written. */
  error?: string;
}

/** A stage's shared arrays: the thread is sent them when they are new to it (a stage's arrays change only when they grow). */
export interface StageArrays {
  kinds: Uint8Array;
  dts: Float64Array;
  groupRows: Float64Array[];
  groupEvents: Int32Array;
  bytes: Uint8Array;
  defs: Uint8Array;
}

/** Messages to the thread (writer-worker.ts). A chunk names its stage by slot; its arrays come along only when the thread has not seen them. */
export type WriterMessage =
  | { type: 'open'; id: number; fd: number | null; done: Int32Array; port: MessagePort }
  | {
    type: 'chunk'; id: number; slot: number; arrays: StageArrays | undefined;
    events: number; bytesEnd: number; defsEnd: number; count: number; firstSeq: number; firstTime: number;
  }
  | { type: 'close'; id: number };

let nextId = 1;
/** Stages of closed recorders, for the next ones (shared memory is slow to allocate and to grow). */
const stagePool: ChunkStage[] = [];

/** Whether the thread already has stage `s`'s arrays (`sent`, as last sent for its slot). */
function sentAlready(s: ChunkStage, sent: StageArrays | undefined): boolean {
  if (sent === undefined || s.kinds !== sent.kinds || s.dts !== sent.dts || s.bytes !== sent.bytes || s.defs !== sent.defs || s.groupEvents !== sent.groupEvents) return false;
  for (let g = 0; g < s.groupRows.length; g++) if (s.groupRows[g] !== sent.groupRows[g]) return false;
  return true;
}

/** One recorder's line to the writer thread. */
export class ChunkPipe {
  private readonly id = nextId++;
  /** done[0]: chunks the thread has finished (its reply is posted before the count moves). */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly replies: MessagePort;
  private readonly stages: ChunkStage[] = [];
  /** Per slot: the arrays the thread has. */
  private readonly sent: (StageArrays | undefined)[] = [];
  private submitted = 0;
  private received = 0;

  /** `fd`: the trace file the thread appends to; null to have the chunks posted back. */
  constructor(fd: number | null) {
    if (worker === undefined || !writerThreadReady()) throw new Error('internal: the trace writer thread is not ready');
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    const open: WriterMessage = { type: 'open', id: this.id, fd, done: this.done, port: port2 };
    worker.postMessage(open, [port2]);
    for (let i = 0; i < STAGES; i++) {
      this.stages.push(stagePool.pop() ?? newChunkStage(true));
      this.sent.push(undefined);
    }
  }

  /** The stage to fill first. */
  firstStage(): ChunkStage {
    if (this.submitted !== 0) throw new Error('internal: the first chunk stage was asked for twice');
    return this.stages[0]!;
  }

  /**
   * Hands over the stage filled since the last call (or `firstStage`) and
   * returns the one to fill next, once the thread is done with it.
   */
  submit(stage: ChunkStage, count: number, firstSeq: number, firstTime: number): ChunkStage {
    const slot = this.submitted % STAGES;
    if (stage !== this.stages[slot]) throw new Error('internal: a chunk stage handed over out of turn');
    let arrays: StageArrays | undefined;
    if (!sentAlready(stage, this.sent[slot])) {
      arrays = { kinds: stage.kinds, dts: stage.dts, groupRows: stage.groupRows.slice(), groupEvents: stage.groupEvents, bytes: stage.bytes, defs: stage.defs };
      this.sent[slot] = arrays;
    }
    const m: WriterMessage = {
      type: 'chunk', id: this.id, slot, arrays,
      events: stage.events, bytesEnd: stage.bytesEnd, defsEnd: stage.defsEnd, count, firstSeq, firstTime,
    };
    worker!.postMessage(m);
    const k = ++this.submitted;
    // Chunk k - STAGES was the last to use the stage of chunk k.
    this.waitDone(k - STAGES + 1);
    return this.stages[k % STAGES]!;
  }

  /** Replies received so far, in order, to `take` (without waiting). */
  drain(take: (r: ChunkReply) => void): void {
    for (;;) {
      if (this.received === this.submitted) return;
      const m = receiveMessageOnPort(this.replies);
      if (m === undefined) return;
      this.received++;
      take(m.message as ChunkReply);
    }
  }

  /** Waits for every chunk handed over, gives their replies to `take`, and lets the thread forget this recorder. */
  finish(take: (r: ChunkReply) => void): void {
    this.waitDone(this.submitted);
    this.drain(take);
    const m: WriterMessage = { type: 'close', id: this.id };
    worker!.postMessage(m);
    this.replies.close();
    // The thread is done with every stage: the next recorder's.
    if (stagePool.length < 2 * STAGES) stagePool.push(...this.stages);
  }

  /** Blocks until the thread has finished `n` chunks. */
  private waitDone(n: number): void {
    for (;;) {
      const d = Atomics.load(this.done, 0);
      if (d >= n) return;
      Atomics.wait(this.done, 0, d);
    }
  }
}
