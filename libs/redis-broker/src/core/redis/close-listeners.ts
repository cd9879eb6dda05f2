import type { EventEmitter } from 'node:events';

const byClient = new WeakMap<EventEmitter, Set<() => void>>();

/**
 * Calls `listener` each time `client` emits `close`, with one `close`
 * listener per client however many parts ask: every consumer of an app
 * shares its command connection, and Node warns of a leak past ten
 * listeners of one event. Returns a function that stops the calls.
 */
export function onConnectionClose(client: EventEmitter, listener: () => void): () => void {
  let listeners = byClient.get(client);
  if (!listeners) {
    const all = new Set<() => void>();
    client.on('close', () => {
      for (const each of all) each();
    });
    byClient.set(client, all);
    listeners = all;
  }
  listeners.add(listener);
  const registered = listeners;
  return () => {
    registered.delete(listener);
  };
}
