/** A map from event name to the listener's argument list. */
export type EventMap = { [name: string]: unknown[] };

/** A listener for event `K` of map `M`. */
export type Listener<M extends EventMap, K extends keyof M> = (...args: M[K]) => void;

/**
 * A small typed event emitter. A listener that throws does not stop the others;
 * its error is reported with `console.error`.
 */
export class Emitter<M extends EventMap> {
  private listeners: { [K in keyof M]?: Array<Listener<M, K>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(name: K, listener: Listener<M, K>): () => void {
    (this.listeners[name] ??= []).push(listener);
    return () => this.off(name, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof M>(name: K, listener: Listener<M, K>): () => void {
    const off = this.on(name, (...args: M[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof M>(name: K, listener: Listener<M, K>): void {
    const list = this.listeners[name];
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Removes every listener. */
  protected removeAllListeners(): void {
    this.listeners = {};
  }

  /** Calls the listeners of `name` with `args`. */
  protected emit<K extends keyof M>(name: K, ...args: M[K]): void {
    const list = this.listeners[name];
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        listener(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }
}
