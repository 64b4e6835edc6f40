/**
 * Counts failures per key (an IP address, or IP + user name) in a sliding window and blocks the key
 * once it has too many: guessing tokens or passwords becomes hopeless, while a client that holds a
 * valid token is never slowed down by its own successful requests.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
  ) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string, now: number): number {
    const recent = this.#recent(key, now);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  fail(key: string, now: number): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#failures.set(key, recent);
    if (this.#failures.size > 10_000) this.#prune(now);
  }

  reset(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }

  #prune(now: number): void {
    for (const [key, times] of this.#failures) {
      if (!times.some((t) => t > now - this.windowMs)) this.#failures.delete(key);
    }
  }
}
