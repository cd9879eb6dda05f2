import type { ConsumerHealth } from './message-source.js';

/** Anything that runs consumers and can tell how they are. */
export interface ConsumerHealthSource {
  health(): ConsumerHealth[];
}

/**
 * The consumers started outside the module's runner (by the microservices
 * transport, `RedisBrokerServer`), which the health indicator reports beside
 * the runner's. Process-wide because a Nest transport strategy is built with
 * `new`, outside the app's dependency injection: a server adds itself when it
 * starts listening and removes itself when it closes.
 */
export class ConsumerHealthBoard {
  private readonly sources = new Set<ConsumerHealthSource>();

  add(source: ConsumerHealthSource): void {
    this.sources.add(source);
  }

  delete(source: ConsumerHealthSource): void {
    this.sources.delete(source);
  }

  health(): ConsumerHealth[] {
    return [...this.sources].flatMap((source) => source.health());
  }
}

/** The process's one board. */
export const consumerHealthBoard = new ConsumerHealthBoard();
