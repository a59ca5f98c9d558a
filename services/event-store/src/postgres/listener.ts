import pg from 'pg';
import { backoffDelay } from '@sporbar/common/retry';

/**
 * One LISTEN connection per store, opened lazily by the first subscription. It reconnects with
 * backoff when the server goes away; while it is down the subscriptions' polling covers the gap, and
 * every (re)connect wakes them once in case a NOTIFY was missed.
 */
export class PgListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connect: () => pg.Client,
    private readonly channel: string,
    private readonly onNotify: () => void,
  ) {}

  start(): void {
    if (this.#client || this.#timer || this.#stopped) return;
    void this.#open();
  }

  async #open(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    const client = this.connect();
    this.#client = client;
    client.on('notification', () => this.onNotify());
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      this.#attempt = 0;
      this.onNotify(); // anything committed while we were not listening
    } catch {
      this.#lost(client);
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#attempt++;
    this.#timer = setTimeout(() => void this.#open(), backoffDelay(this.#attempt, { initialDelayMs: 100, maxDelayMs: 5000 }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
