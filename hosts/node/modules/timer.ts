// Node implementation of Moddable's `timer` module, on the current device's clock (semantics in
// hosts/shared/moddable-timer.ts). Repeats advance from their due time so they do not drift (like modTimer).
import { currentBoard, type Board } from "../board.ts";
import { TimerRecord, makeTimerClass } from "../../shared/moddable-timer.ts";

class BoardTimer extends TimerRecord {
  private handle: unknown = undefined;
  private due = 0;
  private readonly onDue = () => { this.handle = undefined; this.fire(); };

  constructor(readonly board: Board, callback: (timer: unknown) => void) {
    super(callback);
  }

  protected wait(delay: number, again: boolean): void {
    const clock = this.board.clock;
    this.due = again ? this.due + delay : clock.now() + delay;
    this.handle = clock.schedule(this.onDue, Math.max(0, this.due - clock.now()));
  }

  protected cancel(): void {
    if (this.handle !== undefined) this.board.clock.cancel(this.handle);
    this.handle = undefined;
  }

  protected invoke(): void {
    this.board.run(() => this.callback.call(globalThis, this));
  }
}

export default makeTimerClass((callback) => new BoardTimer(currentBoard(), callback), () => performance.now());
