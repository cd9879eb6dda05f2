// `nest-redis-broker/microservices`: the Nest microservices transport
// (needs the optional peer `@nestjs/microservices`). See docs/microservices.md.
export { RedisBrokerServer, REDIS_BROKER_TRANSPORT, type RedisBrokerServerStatus } from './redis-broker.server.js';
export { RedisBrokerClientProxy } from './redis-broker.client-proxy.js';
export { RedisBrokerContext } from './redis-broker.context.js';
export type { EventRouting, EventTransport, RedisBrokerClientOptions, RedisBrokerServerOptions } from './transport.options.js';
