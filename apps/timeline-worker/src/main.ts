// Runs the timeline worker alone, as deployed: env REDIS_URL, PORT (default
// 3001, operations endpoints only). Stops gracefully on SIGINT/SIGTERM:
// running handlers finish, the rest goes back to Redis.
import 'reflect-metadata';
import { configFromEnv } from '../../timeline-shared/src/index.js';
import { startTimelineWorker } from './timeline-worker.app.js';

const { url } = await startTimelineWorker(configFromEnv(process.env, 3001));
console.log(`timeline-worker ready; operations on ${url}`);
