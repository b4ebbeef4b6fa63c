/**
 * §5.1 push rate limit: a sliding 60 s window of accepted pushes, per process (per Lambda container here);
 * 0 = off. Across containers, API Gateway throttling is the limit on AWS.
 */
export class SlidingWindowLimiter {
  private readonly times: number[] = [];
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when one more request fits (and counts it). */
  tryTake(count = 1): boolean {
    if (this.perMinute <= 0) return true;
    const t = this.now();
    while (this.times.length > 0 && (this.times[0] ?? 0) <= t - 60_000) this.times.shift();
    if (this.times.length + count > this.perMinute) return false;
    for (let i = 0; i < count; i++) this.times.push(t);
    return true;
  }
}
