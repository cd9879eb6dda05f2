import { describe, expect, it } from 'vitest';
import { ProcessingListModel } from '../../libs/redis-broker/src/queue/processing-list.model.js';
import { QueueDelivery } from '../../libs/redis-broker/src/queue/queue-delivery.js';

function delivery(body: Buffer | string): QueueDelivery {
  return new QueueDelivery(body, 0, 0, true, 0);
}

/** A model made exact by a rebuild that read `entries` from the list, oldest first. */
function exactModel(entries: QueueDelivery[]): ProcessingListModel {
  const model = new ProcessingListModel();
  model.startRebuild();
  model.finishRebuild(entries);
  return model;
}

describe('ProcessingListModel', () => {
  it('sends every ack by body before it has ever been rebuilt from the list', () => {
    const model = new ProcessingListModel();
    const a = delivery('a');
    model.append([a]);
    expect(model.planAck([a])).toEqual({ trim: 0, byBody: [a], bySha: [] });
    expect(model.removeByBody(a)).toBe(true);
  });

  it('cuts an ack of the oldest copies by count', () => {
    const [a, b, c] = [delivery('a'), delivery('b'), delivery('c')];
    const model = exactModel([a, b]);
    model.append([c]);
    expect(model.planAck([b, a])).toEqual({ trim: 2, byBody: [], bySha: [a, b] });
    expect(model.planAck([c])).toEqual({ trim: 1, byBody: [], bySha: [c] });
  });

  it('removes by body an ack that leaves an older unacked copy in front of it', () => {
    const [a, b, c] = [delivery('a'), delivery('b'), delivery('c')];
    const model = exactModel([a, b, c]);
    expect(model.planAck([b, c])).toEqual({ trim: 0, byBody: [b, c], bySha: [] });
    // The holes left by b and c are not copies any more: a alone is cut by count.
    expect(model.planAck([a])).toEqual({ trim: 1, byBody: [], bySha: [a] });
  });

  it('counts past holes left by earlier removals when it trims out of order acks', () => {
    const [a, b, c, d] = [delivery('a'), delivery('b'), delivery('c'), delivery('d')];
    const model = exactModel([a, b, c, d]);
    expect(model.removeByBody(b)).toBe(true);
    expect(model.planAck([c, a])).toEqual({ trim: 2, byBody: [], bySha: [a, c] });
    expect(model.planAck([d])).toEqual({ trim: 1, byBody: [], bySha: [d] });
  });

  it('lets the older of two equal copies take the place of the one LREM -1 removes in its stead', () => {
    const first = delivery('same');
    const other = delivery('other');
    const second = delivery('same');
    const model = exactModel([first, other, second]);
    // LREM -1 removes the oldest equal copy, which was first's: first now stands for the newer copy.
    expect(model.removeByBody(second)).toBe(true);
    expect(second.slot).toBe(-1);
    expect(first.slot).toBe(2);
    // other is now the oldest copy, so first cannot be cut by count.
    expect(model.planAck([first])).toEqual({ trim: 0, byBody: [first], bySha: [] });
    expect(model.planAck([other])).toEqual({ trim: 1, byBody: [], bySha: [other] });
  });

  it('treats a text copy and a byte copy of the same message as equal', () => {
    const asBytes = delivery(Buffer.from('héllo'));
    const other = delivery('x');
    const asText = delivery(Buffer.from('héllo'));
    asText.decode();
    const model = exactModel([asBytes, other, asText]);
    model.removeByBody(asText);
    expect(asBytes.slot).toBe(2);
  });

  it('refuses to remove a delivery that has no copy in the list, so no other copy goes instead', () => {
    const [a, b] = [delivery('a'), delivery('a')];
    const model = exactModel([a]);
    expect(model.removeByBody(b)).toBe(false);
    expect(model.removeByBody(a)).toBe(true);
    expect(model.removeByBody(a)).toBe(false);
  });

  it('clears by sha the acked deliveries that have no copy in the list', () => {
    const [a, orphan] = [delivery('a'), delivery('orphan')];
    const model = exactModel([a]);
    expect(model.planAck([a, orphan])).toEqual({ trim: 1, byBody: [], bySha: [a, orphan] });
    expect(a.acking || orphan.acking).toBe(false);
  });

  it('plans an empty ack as nothing to cut', () => {
    const model = exactModel([delivery('a')]);
    expect(model.planAck([])).toEqual({ trim: 0, byBody: [], bySha: [] });
  });

  it('goes back to acks by body after an invalidation, forgetting every place', () => {
    const [a, b] = [delivery('a'), delivery('b')];
    const model = exactModel([a]);
    model.invalidate();
    expect(a.slot).toBe(-1);
    model.append([b]);
    expect(b.slot).toBe(-1);
    expect(model.planAck([a, b])).toEqual({ trim: 0, byBody: [a, b], bySha: [] });
  });

  it('does not become exact from a rebuild that something invalidated while it ran', () => {
    const a = delivery('a');
    const model = new ProcessingListModel();
    model.startRebuild();
    model.invalidate();
    model.finishRebuild([a]);
    expect(model.planAck([a])).toEqual({ trim: 0, byBody: [a], bySha: [] });
  });

  it('stays inexact when the rebuild could not read the list', () => {
    const a = delivery('a');
    const model = new ProcessingListModel();
    model.startRebuild();
    model.finishRebuild(undefined);
    expect(model.planAck([a])).toEqual({ trim: 0, byBody: [a], bySha: [] });
  });

  it('holds commands back with one promise from the start of a rebuild until it finishes', async () => {
    const model = new ProcessingListModel();
    expect(model.rebuild).toBeUndefined();
    model.startRebuild();
    const waiting = model.rebuild;
    model.startRebuild();
    expect(model.rebuild).toBe(waiting);
    let released = false;
    const waiter = waiting!.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    model.finishRebuild([]);
    await waiter;
    expect(model.rebuild).toBeUndefined();
  });

  it('a later rebuild makes an invalidated model exact again', () => {
    const [a, b] = [delivery('a'), delivery('b')];
    const model = exactModel([a]);
    model.invalidate();
    model.startRebuild();
    model.finishRebuild([a, b]);
    expect(model.planAck([a, b])).toEqual({ trim: 2, byBody: [], bySha: [a, b] });
  });

  it('keeps trimming by count across the compaction of a long acked prefix', () => {
    const all = Array.from({ length: 3_000 }, (_, i) => delivery(`m${i}`));
    const model = exactModel([]);
    model.append(all);
    expect(model.planAck(all.slice(0, 2_000)).trim).toBe(2_000);
    // Compacted: the survivors are numbered from 0 again.
    expect(all[2_000].slot).toBe(0);
    expect(model.removeByBody(all[2_500])).toBe(true);
    expect(model.planAck(all.slice(2_000, 2_500)).trim).toBe(500);
    expect(model.planAck(all.slice(2_501))).toEqual({ trim: 499, byBody: [], bySha: all.slice(2_501) });
  });
});
