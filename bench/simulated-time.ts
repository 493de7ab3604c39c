/**
 * Simulated time for the slow-snapshot scenario: the global `Date` is replaced by a subclass whose "now" is the real
 * time plus an offset. The handlers (whose clock is `new Date()`), the case ids, the call middleware's simulated
 * snapshot progress and the execution start time all read it, so they agree on how much time has passed.
 *
 * The Wait states run with a 0 ms override (local runner), and the benchmark advances the offset by the
 * `nextCheckSeconds` each poll handler asked for, right after that handler returns: exactly the time Step Functions
 * would have waited before the next poll. Only one execution runs while the clock is installed (it is global).
 */
export class SimulatedTime {
  private offsetMs = 0;
  private restore: (() => void) | undefined;

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  advance(seconds: number): void {
    if (Number.isFinite(seconds) && seconds > 0) this.offsetMs += seconds * 1000;
  }

  install(): void {
    if (this.restore) return;
    const RealDate = Date;
    const clock = this;
    class SimulatedDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(RealDate.now() + clock.offsetMs);
        else super(...(args as [string | number | Date]));
      }

      static override now(): number {
        return RealDate.now() + clock.offsetMs;
      }
    }
    globalThis.Date = SimulatedDate as DateConstructor;
    this.restore = () => {
      globalThis.Date = RealDate;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
    this.offsetMs = 0;
  }
}
