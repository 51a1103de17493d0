/**
 * `struct sk_buff`: one linear buffer [head .. end) with the packet in
 * [data .. tail). Offsets instead of pointers; `bytes` is the packet view.
 */
export class SkBuff {
  data = 0;
  tail = 0;
  readonly end: number;
  protocol = 0;
  /** Driver-private control block (skb->cb). */
  readonly cb = new Uint8Array(48);
  constructor(readonly id: number, readonly head: Uint8Array, readonly tag: string) {
    this.end = head.length;
  }
  get len(): number { return this.tail - this.data; }
  /** The packet bytes (skb->data, skb->len). */
  get bytes(): Uint8Array { return this.head.subarray(this.data, this.tail); }
}

/** `struct sk_buff_head`. */
export class SkBuffHead {
  readonly list: SkBuff[] = [];
  get qlen(): number { return this.list.length; }
}
