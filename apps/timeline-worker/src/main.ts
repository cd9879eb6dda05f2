// Runs the timeline worker alone, as deployed: env REDIS_URL, PORT (default
// 3001, operations endpoints only), OTEL_EXPORTER_OTLP_ENDPOINT (optional:
// traces). Stops gracefully on SIGINT/SIGTERM:
// running handlers finish, the rest goes back to Redis.
import 'reflect-metadata';
import { configFromEnv, startTracing } from '../../timeline-shared/src/index.js';
import { startTimelineWorker } from './timeline-worker.app.js';

// Tracing (OTLP/HTTP) only when OTEL_EXPORTER_OTLP_ENDPOINT is set; registered before the app makes any span.
const tracing = await startTracing('timeline-worker');
const { url } = await startTimelineWorker(configFromEnv(process.env, 3001));
console.log(`timeline-worker ready; operations on ${url}${tracing ? ' (tracing on)' : ''}`);
