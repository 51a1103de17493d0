/**
 * Notification waits (Linux iwl-notif-wait.c): a waiter is registered
 * before the action that makes the firmware send the notification (so it
 * cannot be missed), `rx` offers every packet to the registered waiters
 * (NAPI context, never sleeps), and the op mode then sleeps until its waiter
 * is done, the timeout passes, or the firmware dies (abort).
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO, ETIMEDOUT } from '../../../kernel/errno.js';
import type { Completion } from '../../linux-kpi/completion.js';
import type { LinuxKpi } from '../../linux-kpi/kpi.js';
import type { RxPacket } from '../trans-api.js';

export interface NotifWaiter {
  cmds: readonly number[];
  /** Called for each matching packet; true = the wait is over. Absent: the first match ends it. */
  fn: ((pkt: RxPacket) => boolean) | undefined;
  /** The packet that ended the wait. */
  pkt: RxPacket | null;
  triggered: boolean;
  aborted: boolean;
  done: Completion;
}

export class NotifWait {
  private readonly waiters: NotifWaiter[] = [];
  constructor(private readonly k: LinuxKpi) {}

  /** iwl_init_notification_wait. */
  add(cmds: readonly number[], fn?: (pkt: RxPacket) => boolean): NotifWaiter {
    const w: NotifWaiter = { cmds, fn, pkt: null, triggered: false, aborted: false, done: this.k.init_completion() };
    this.waiters.push(w);
    return w;
  }

  /** iwl_remove_notification. */
  remove(w: NotifWaiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** iwl_wait_notification: 0, -ETIMEDOUT or -EIO (aborted: the firmware died). Removes the waiter. */
  *wait(w: NotifWaiter, timeoutMs: number): Co<number> {
    if (!w.triggered && !w.aborted) yield* this.k.wait_for_completion_timeout(w.done, this.k.msecs_to_jiffies(timeoutMs));
    this.remove(w);
    if (w.aborted) return -EIO;
    return w.triggered ? 0 : -ETIMEDOUT;
  }

  /** iwl_notification_wait_notify: offers `pkt` to every waiter. */
  notify(pkt: RxPacket): void {
    for (const w of this.waiters) {
      if (w.triggered || w.aborted || !w.cmds.includes(pkt.cmd)) continue;
      const done = w.fn === undefined ? true : w.fn(pkt);
      if (done) {
        w.triggered = true;
        w.pkt = pkt;
        this.k.complete(w.done);
      }
    }
  }

  /** iwl_abort_notification_waits: the firmware is gone. */
  abortAll(): void {
    for (const w of this.waiters) {
      if (w.triggered || w.aborted) continue;
      w.aborted = true;
      this.k.complete(w.done);
    }
  }
}
