// Reads what test/fixtures/limits-worker.ts records of its handler runs.

/** One handler start: host time (ms), message id, worker pid. */
export interface RunStart {
  at: number;
  id: string;
  pid: number;
}

export function parseStarts(lines: string[]): RunStart[] {
  return lines.map((line) => {
    const [at, id, pid] = line.split(':');
    return { at: Number(at), id, pid: Number(pid) };
  });
}

/**
 * Starts per whole second, counted from the first start: element k counts
 * the starts in [first + k s, first + (k + 1) s).
 */
export function startsPerSecond(starts: RunStart[]): number[] {
  const first = Math.min(...starts.map((s) => s.at));
  const counts: number[] = [];
  for (const { at } of starts) {
    const second = Math.floor((at - first) / 1000);
    counts[second] = (counts[second] ?? 0) + 1;
  }
  return Array.from(counts, (c) => c ?? 0);
}
