// Node implementation of Moddable's `time` module on the current device's clock.
import { currentBoard } from "../board.ts";

export default class Time {
  static timezone = 0;
  static dst = 0;
  static get ticks(): number { return currentBoard().clock.now(); }
  static get microseconds(): number { return currentBoard().clock.now() * 1000; }
  static set(_seconds: number): void { /* the host's wall clock is Node's; nothing to set */ }
  static delta(start: number, end?: number): number { return (end ?? currentBoard().clock.now()) - start; }
}
