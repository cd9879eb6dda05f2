/**
 * What a channel listener knows about the message it runs, via `@Ctx()` or
 * the second argument. One context is shared by every listener of the same
 * delivery; it is read-only.
 * @publicApi
 */
export class ChannelMessageContext {
  constructor(
    /** The channel the message was published to, without the key prefix. */
    readonly channel: string,
    /** For pattern subscriptions, the pattern that matched (without the key prefix); otherwise undefined. */
    readonly pattern: string | undefined,
    /** Whether it came through sharded pub/sub (`SPUBLISH` / `SSUBSCRIBE`). */
    readonly sharded: boolean,
    /** The message text exactly as published. */
    readonly raw: string,
    /** When this process received it (epoch ms). */
    readonly receivedAt: number,
  ) {}
}
