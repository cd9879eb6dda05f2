/**
 * Where a command writes: stdout for results, stderr for diagnostics. Text
 * may come from Redis (payloads, key names, errors): the human forms escape
 * control characters, so a payload cannot move the cursor, clear the screen
 * or retitle the terminal; `--json` prints values exactly (JSON escapes them).
 */
export interface CliOutput {
  json: boolean;
  line(text: string): void;
  /** One JSON document on its own line. */
  data(value: unknown): void;
  table(headers: string[], rows: (string | number | null)[][], empty: string): void;
  /** A diagnostic for the person at the terminal, on stderr. */
  note(text: string): void;
}

/** Writes to the process' stdout (diagnostics to stderr). */
export function stdoutOutput(json: boolean): CliOutput {
  const write = (text: string): void => void process.stdout.write(`${text}\n`);
  return {
    json,
    line: (text) => write(escapeControl(text)),
    data: (value) => write(toJsonLine(value)),
    table: (headers, rows, empty) => write(renderTable(headers, rows, empty)),
    note: (text) => void process.stderr.write(`${escapeControl(text)}\n`),
  };
}

// C0 controls (ESC starts terminal sequences), DEL, and C1 controls (U+009B
// is a one-character CSI on some terminals).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character written as an escape (`\n`, `\t`, `\x1b`), for a terminal. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * `JSON.stringify` on one line. JSON escapes C0 controls but leaves DEL and
 * C1 raw; they are written as `\u00XX` (the same JSON value).
 */
export function toJsonLine(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[\u007f-\u009f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

const NUMERIC = /^-?\d+(\.\d+)?( ?(ms|s|min))?$/;

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function renderTable(headers: string[], rows: (string | number | null)[][], empty: string): string {
  if (rows.length === 0) return `${headers.join('  ')}\n(${escapeControl(empty)})`;
  const cells = rows.map((row) => row.map((c) => escapeControl((c === null ? '?' : String(c)).replace(/\s+/g, ' '))));
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
