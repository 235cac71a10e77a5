// The simulator's `timer` and `time` modules on a device's clock, checked against Moddable's documented semantics.
import { describe, expect, it } from "vitest";
import Timer from "timer";
import Time from "time";
import { currentBoard } from "../hosts/node/board.ts";
import { Device } from "../sim/board/device.ts";
import { VirtualClock } from "../sim/board/clock.ts";

/** A device on a virtual clock, plus a helper that runs code as that device. */
function virtualDevice(id = "timer-device") {
  const clock = new VirtualClock();
  const device = new Device({ id, clock, trace: () => {} });
  const as = <T>(fn: () => T): T => device.run(fn);
  return { clock, device, as };
}

describe("Timer on a virtual clock", () => {
  it("an immediate timer runs once, on the next turn, with this = globalThis and its id", () => {
    const { clock, as } = virtualDevice();
    const calls: { self: unknown; id: unknown }[] = [];
    const id = as(() => Timer.set(function (this: unknown, t) { calls.push({ self: this, id: t }); }));
    expect(calls.length).toBe(0);
    clock.advance(0);
    clock.advance(1000);
    expect(calls.length).toBe(1);
    expect(calls[0].self).toBe(globalThis);
    expect(calls[0].id).toBe(id);
  });

  it("a one-shot timer fires once, at its interval", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    as(() => Timer.set(() => at.push(Time.ticks), 100));
    clock.advance(99);
    expect(at).toEqual([]);
    clock.advance(1);
    clock.advance(1000);
    expect(at).toEqual([100]);
  });

  it("set with a repeat interval fires first at initial, then every repeat; clear stops it", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    const id = as(() => Timer.set(() => at.push(Time.ticks), 50, 20));
    clock.advance(95);
    expect(at).toEqual([50, 70, 90]);
    Timer.clear(id);
    clock.advance(100);
    expect(at).toEqual([50, 70, 90]);
  });

  it("Timer.repeat uses the interval for both", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    const ids: unknown[] = [];
    const id = as(() => Timer.repeat((t) => { at.push(Time.ticks); ids.push(t); }, 30));
    clock.advance(100);
    expect(at).toEqual([30, 60, 90]);
    expect(ids.every((t) => t === id)).toBe(true);
    Timer.clear(id);
  });

  it("schedule reschedules from now; without intervals it unschedules until scheduled again", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    const id = as(() => Timer.set(() => at.push(Time.ticks), 100));
    clock.advance(50);
    Timer.schedule(id, 100);
    clock.advance(99);
    expect(at).toEqual([]);
    clock.advance(1);
    expect(at).toEqual([150]);

    const r = as(() => Timer.repeat(() => at.push(Time.ticks), 10));
    Timer.schedule(r);
    clock.advance(500);
    expect(at).toEqual([150]);
    Timer.schedule(r, 5, 20);
    clock.advance(50);
    expect(at).toEqual([150, 655, 675, 695]);
    Timer.clear(r);
  });

  it("a callback may change its own repeat (the documented example)", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    let state = 0;
    const id = as(() => Timer.repeat((t) => {
      at.push(Time.ticks);
      if (state === 0) state = 1;
      else if (state === 1) { state = 2; Timer.schedule(t, 2000, 2000); }
    }, 1000));
    clock.advance(6000);
    expect(at).toEqual([1000, 2000, 4000, 6000]);
    Timer.clear(id);
  });

  it("a timer whose repeat is 0 when its callback returns is cleared, even if rescheduled one-shot inside", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    const id = as(() => Timer.set((t) => { at.push(Time.ticks); Timer.schedule(t, 10); }, 10));
    clock.advance(100);
    expect(at).toEqual([10]);
    expect(() => Timer.schedule(id, 10)).toThrow();
  });

  it("a timer unscheduled inside its callback survives and can be scheduled later", () => {
    const { clock, as } = virtualDevice();
    const at: number[] = [];
    const id = as(() => Timer.repeat((t) => { at.push(Time.ticks); Timer.schedule(t); }, 10));
    clock.advance(100);
    expect(at).toEqual([10]);
    Timer.schedule(id, 5);
    clock.advance(100);
    expect(at).toEqual([10, 105]);
  });

  it("clear accepts undefined, null, cleared and fired timers without throwing; schedule of a cleared timer throws", () => {
    const { clock, as } = virtualDevice();
    let fired = 0;
    const oneShot = as(() => Timer.set(() => fired++, 1));
    clock.advance(5);
    expect(fired).toBe(1);
    expect(() => Timer.clear(undefined)).not.toThrow();
    expect(() => Timer.clear(null)).not.toThrow();
    expect(() => Timer.clear({} as never)).not.toThrow();
    expect(() => Timer.clear(oneShot)).not.toThrow();
    const t = as(() => Timer.set(() => fired++, 10));
    Timer.clear(t);
    expect(() => Timer.clear(t)).not.toThrow();
    clock.advance(100);
    expect(fired).toBe(1);
    expect(() => Timer.schedule(t, 1)).toThrow();
  });

  it("a repeating timer can clear itself from its callback", () => {
    const { clock, as } = virtualDevice();
    let n = 0;
    as(() => Timer.repeat((t) => { if (++n === 3) Timer.clear(t); }, 10));
    clock.advance(1000);
    expect(n).toBe(3);
  });

  it("each device's timers run on its own clock, as that device", () => {
    const a = virtualDevice("dev-a");
    const b = virtualDevice("dev-b");
    const seen: string[] = [];
    a.as(() => Timer.set(() => seen.push(currentBoard().id), 10));
    b.as(() => Timer.set(() => seen.push(currentBoard().id), 10));
    a.clock.advance(10);
    expect(seen).toEqual(["dev-a"]);
    b.clock.advance(10);
    expect(seen).toEqual(["dev-a", "dev-b"]);
  });
});

describe("Time", () => {
  it("ticks move only when the virtual clock advances; delta measures between ticks", async () => {
    const { clock, as } = virtualDevice();
    const start = as(() => Time.ticks);
    await new Promise((r) => setTimeout(r, 20));
    expect(as(() => Time.ticks)).toBe(start);
    clock.advance(123);
    expect(as(() => Time.ticks)).toBe(start + 123);
    expect(as(() => Time.delta(start))).toBe(123);
    expect(Time.delta(10, 25)).toBe(15);
  });

  it("on the real clock, ticks do not go backwards and a timer fires", async () => {
    const device = new Device({ id: "real", trace: () => {} });
    const before = device.run(() => Time.ticks);
    const fired = await new Promise<number>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error("timer never fired")), 5000);
      device.run(() => Timer.set(() => { clearTimeout(guard); resolve(Time.ticks); }, 5));
    });
    expect(fired).toBeGreaterThanOrEqual(before);
    expect(device.run(() => Time.delta(before))).toBeGreaterThanOrEqual(0);
  });
});
