// Runs the timeline API alone, as deployed: env REDIS_URL, PORT (default
// 3000), TIMELINE_DB (SQLite file), OTEL_EXPORTER_OTLP_ENDPOINT (optional:
// traces). Stops gracefully on SIGINT/SIGTERM.
import 'reflect-metadata';
import { configFromEnv, startTracing } from '../../timeline-shared/src/index.js';
import { startTimelineApi } from './timeline-api.app.js';

// Tracing (OTLP/HTTP) only when OTEL_EXPORTER_OTLP_ENDPOINT is set; registered before the app makes any span.
const tracing = await startTracing('timeline-api');
const { url } = await startTimelineApi(configFromEnv(process.env, 3000));
console.log(`timeline-api listening on ${url}${tracing ? ' (tracing on)' : ''}`);
