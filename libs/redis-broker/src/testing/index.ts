export { startRedisServer, freePort, RedisServerHandle, type RedisServerOptions } from './redis-server.js';
export { waitFor, waitForQueuesIdle } from './wait.js';
export { waitForStreamGroupsIdle } from './wait-streams.js';
