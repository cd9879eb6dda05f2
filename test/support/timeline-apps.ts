import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTimelineApi } from '../../apps/timeline-api/src/timeline-api.app.js';
import { startTimelineWorker } from '../../apps/timeline-worker/src/timeline-worker.app.js';
import { configFromEnv, type TimelineConfig } from '../../apps/timeline-shared/src/index.js';
import { CapturingLogger } from './broker-app.js';

/** A booted app of the sample, on a free port of 127.0.0.1. */
export interface RunningApp {
  app: INestApplication;
  url: string;
  logger: CapturingLogger;
}

/** Sample config for tests: the given Redis, a fresh SQLite file in a temp dir, free ports. */
export function sampleConfig(redisUrl: string, overrides: Partial<TimelineConfig> = {}): { config: TimelineConfig; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-test-'));
  const config = { ...configFromEnv({}, 0), redisUrl, databasePath: join(dir, 'timeline.sqlite'), shutdownTimeoutMs: 2_000, ...overrides };
  return { config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function bootApi(config: TimelineConfig): Promise<RunningApp> {
  const logger = new CapturingLogger();
  return { ...(await startTimelineApi(config, logger)), logger };
}

export async function bootWorker(config: TimelineConfig): Promise<RunningApp> {
  const logger = new CapturingLogger();
  return { ...(await startTimelineWorker(config, logger)), logger };
}

/** One HTTP request with an optional JSON body; the status and the body (parsed when it is JSON). */
export async function http<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (e.g. /metrics): keep the text.
    parsed = text;
  }
  return { status: response.status, body: parsed as T, text };
}

/** The value of one Prometheus sample (`name{labels}`), or undefined when the text has no such sample. */
export function metricSample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    const present = Object.fromEntries([...inside.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2].replace(/\\(.)/g, '$1')]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * The value of one Prometheus sample (`name{labels}`). Throws when it is
 * absent, so a renamed or dropped metric (or label) fails the test instead of
 * reading as 0.
 */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const value = metricSample(text, name, labels);
  if (value === undefined) {
    const samples = text.split('\n').filter((line) => line.startsWith(`${name}{`));
    throw new Error(`No sample ${name}${JSON.stringify(labels)} in the metrics; samples of ${name}: ${samples.length ? samples.join(' | ') : 'none'}`);
  }
  return value;
}
