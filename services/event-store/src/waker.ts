/**
 * Wakes waiting subscriptions when something was appended. A generation counter closes the race
 * between "the read found nothing" and "start waiting": a waiter remembers the generation it read
 * under and returns at once if a wake happened since.
 */
export class Waker {
  #generation = 0;
  readonly #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  wake(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  /** Resolves on the next wake after `seenGeneration`, or after `timeoutMs` (the polling fallback). */
  wait(seenGeneration: number, timeoutMs: number): Promise<void> {
    if (this.#generation !== seenGeneration) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}
