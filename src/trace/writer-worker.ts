/**
 * The trace writer thread (./writer-thread.ts): assembles, seals and writes
 * the chunks recorders hand it, one recorder's in order.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ChunkAssembler, type ChunkStage } from './columns.js';
import { sealChunk } from './chunk-seal.js';
import { CHUNK_HEADER_SIZE } from './format.js';
import { writeAll } from './sinks.js';
import type { ChunkReply, WriterMessage } from './writer-thread.js';

interface Line {
  fd: number | null;
  done: Int32Array;
  port: MessagePort;
  /** Per slot: the recorder's stage, over the shared arrays last sent for it. */
  stages: (ChunkStage | undefined)[];
}

const port = parentPort;
if (port === null) throw new Error('src/trace/writer-worker.ts runs as the trace writer thread');
const state = (workerData as { state: Int32Array }).state;
const lines = new Map<number, Line>();
const assembler = new ChunkAssembler();
const asm = { buf: new Uint8Array(0) };

port.on('message', (m: WriterMessage) => {
  if (m.type === 'open') {
    lines.set(m.id, { fd: m.fd, done: m.done, port: m.port, stages: [] });
  } else if (m.type === 'close') {
    lines.get(m.id)?.port.close();
    lines.delete(m.id);
  } else {
    const line = lines.get(m.id);
    if (line === undefined) return;
    let reply: ChunkReply;
    try {
      if (m.arrays !== undefined) line.stages[m.slot] = { ...m.arrays, events: 0, bytesEnd: 0, defsEnd: 0 };
      const stage = line.stages[m.slot];
      if (stage === undefined) throw new Error(`internal: chunk stage ${m.slot} was never sent`);
      stage.events = m.events;
      stage.bytesEnd = m.bytesEnd;
      stage.defsEnd = m.defsEnd;
      const rawLen = assembler.assemble(stage, asm);
      const head = new Uint8Array(CHUNK_HEADER_SIZE);
      const comp = sealChunk(asm.buf, rawLen, m.count, m.firstSeq, m.firstTime, head);
      if (line.fd !== null) {
        writeAll(line.fd, [head, comp]);
        reply = { rawLen, compLen: comp.length };
      } else {
        const bytes = new Uint8Array(CHUNK_HEADER_SIZE + comp.length);
        bytes.set(head, 0);
        bytes.set(comp, CHUNK_HEADER_SIZE);
        reply = { rawLen, compLen: comp.length, bytes };
      }
      // A column buffer that grew for one outsized chunk does not stay huge.
      if (asm.buf.length > 64 * 1024 * 1024) asm.buf = new Uint8Array(0);
    } catch (e) {
      reply = { rawLen: 0, compLen: 0, error: e instanceof Error ? e.message : String(e) };
    }
    // The reply first: when the recorder sees the count move, the reply is there to read. The count
    // moves whatever happens here: the recorder waits on it.
    try {
      line.port.postMessage(reply, reply.bytes ? [reply.bytes.buffer as ArrayBuffer] : []);
    } finally {
      Atomics.add(line.done, 0, 1);
      Atomics.notify(line.done, 0);
    }
  }
});

Atomics.store(state, 0, 1);
Atomics.notify(state, 0);
