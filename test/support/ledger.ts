/**
 * What a fault scenario handled, compared with what it sent: the numbers
 * 0..sent-1 that never ran, how many runs were repeats, and anything handled
 * that was never sent.
 */
export interface Ledger {
  missing: number[];
  duplicates: number;
  unexpected: string[];
  handled: number;
}

/** Compares the handled numbers (as recorded, one entry per run) with `sent` = 0..n-1 or an explicit list. */
export function ledger(sent: number | number[], handled: string[]): Ledger {
  const expected = typeof sent === 'number' ? Array.from({ length: sent }, (_, i) => i) : sent;
  const expectedSet = new Set(expected.map(String));
  const seen = new Set(handled);
  return {
    missing: expected.filter((n) => !seen.has(String(n))),
    duplicates: handled.length - seen.size,
    unexpected: [...seen].filter((n) => !expectedSet.has(n)),
    handled: seen.size,
  };
}

/** Prints a scenario's numbers so a CI log shows what was measured (the docs quote them). */
export function report(scenario: string, facts: Record<string, number | string>): void {
  console.log(`[faults] ${scenario}: ${Object.entries(facts).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

/**
 * The sum of the numbers the given processes printed in lines matching `pattern` (its group 1), e.g.
 * the messages a reaper returned: what a scenario's repeat bound is derived from.
 */
export function loggedTotal(processes: readonly { output(): string }[], pattern: RegExp): number {
  return processes.map((p) => p.output()).join('\n').split('\n')
    .map((line) => pattern.exec(line)).reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
}
