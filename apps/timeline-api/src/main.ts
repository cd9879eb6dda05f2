// Runs the timeline API alone, as deployed: env REDIS_URL, PORT (default
// 3000), TIMELINE_DB (SQLite file). Stops gracefully on SIGINT/SIGTERM.
import 'reflect-metadata';
import { configFromEnv } from '../../timeline-shared/src/index.js';
import { startTimelineApi } from './timeline-api.app.js';

const { url } = await startTimelineApi(configFromEnv(process.env, 3000));
console.log(`timeline-api listening on ${url}`);
