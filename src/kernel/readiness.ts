/**
 * Readiness of a kernel object for `event:` (Redox's fevent): objects that
 * can become readable (an IRQ handle, a scheme's request queue, a timer)
 * hold a `Readiness`; event queues subscribe to it. Edge-triggered as Redox
 * events are: a listener is told when the object becomes readable, and once
 * at subscription if it already is.
 */
export const EVENT_READ = 1;
export const EVENT_WRITE = 2;

export interface ReadinessListener {
  notify(flags: number, time: number): void;
}

export class Readiness {
  private listeners: ReadinessListener[] = [];

  subscribe(l: ReadinessListener): void {
    if (!this.listeners.includes(l)) this.listeners.push(l);
  }

  unsubscribe(l: ReadinessListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  signal(flags: number, time: number): void {
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!.notify(flags, time);
  }
}
