import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onConnectionClose } from '../../libs/redis-broker/src/core/redis/close-listeners.js';

describe('onConnectionClose', () => {
  it('adds one close listener per client however many parts listen, and calls each of them', () => {
    const client = new EventEmitter();
    const calls: number[] = [];
    for (let i = 0; i < 20; i += 1) onConnectionClose(client, () => calls.push(i));
    expect(client.listenerCount('close')).toBe(1);
    client.emit('close');
    expect(calls).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('stops calling a listener once it is removed, and keeps the others', () => {
    const client = new EventEmitter();
    const calls: string[] = [];
    const stopA = onConnectionClose(client, () => calls.push('a'));
    onConnectionClose(client, () => calls.push('b'));
    stopA();
    client.emit('close');
    client.emit('close');
    expect(calls).toEqual(['b', 'b']);
  });

  it('keeps the listeners of different clients apart', () => {
    const one = new EventEmitter();
    const two = new EventEmitter();
    const calls: string[] = [];
    onConnectionClose(one, () => calls.push('one'));
    onConnectionClose(two, () => calls.push('two'));
    two.emit('close');
    expect(calls).toEqual(['two']);
  });
});
