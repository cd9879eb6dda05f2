/** Where a command writes: stdout for results, stderr for diagnostics. */
export interface CliOutput {
  json: boolean;
  line(text: string): void;
  /** One JSON document on its own line. */
  data(value: unknown): void;
  table(headers: string[], rows: (string | number | null)[][], empty: string): void;
}

/** Writes to the process' stdout. */
export function stdoutOutput(json: boolean): CliOutput {
  const write = (text: string): void => void process.stdout.write(`${text}\n`);
  return {
    json,
    line: write,
    data: (value) => write(JSON.stringify(value)),
    table: (headers, rows, empty) => write(renderTable(headers, rows, empty)),
  };
}

const NUMERIC = /^-?\d+(\.\d+)?( ?(ms|s|min))?$/;

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function renderTable(headers: string[], rows: (string | number | null)[][], empty: string): string {
  if (rows.length === 0) return `${headers.join('  ')}\n(${empty})`;
  const cells = rows.map((row) => row.map((c) => (c === null ? '?' : String(c)).replace(/\s+/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map((_, i) => cells.every((r) => NUMERIC.test(r[i] ?? '') || r[i] === '?' || r[i] === ''));
  const format = (row: string[]): string =>
    row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [format(headers), ...cells.map(format)].join('\n');
}

/** Shortens long text for a table cell. */
export function clip(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Epoch ms as an ISO time, for tables. */
export function isoTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '';
}
