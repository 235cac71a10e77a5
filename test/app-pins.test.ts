// The simulated pins behind Moddable's pins/analog and pins/digital: a photocell on A0 that is deterministic
// per device and time and drifts, overrides, digital modes/levels per device, and the change hook.
import { describe, expect, it } from "vitest";
// The simulator's modules themselves (their whole API), not types/, which declares only what the SDK's typings do.
import Analog from "../hosts/node/modules/analog.ts";
import Digital from "../hosts/node/modules/digital.ts";
import { Device } from "../sim/board/device.ts";
import { VirtualClock } from "../sim/board/clock.ts";

function board(id: string) {
  const clock = new VirtualClock();
  return { clock, device: new Device({ id, clock, trace: () => {} }) };
}

describe("simulated pins", () => {
  it("A0 is a photocell: same id and time give the same reading, it drifts over minutes, stays in 0..1023", () => {
    const a = board("pc-1"), b = board("pc-1"), c = board("pc-2");
    const series = (x: ReturnType<typeof board>) => Array.from({ length: 60 }, () => { x.clock.advance(5000); return x.device.run(() => Analog.read(0)); });
    const sa = series(a), sb = series(b), sc = series(c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const v of [...sa, ...sc]) expect(Number.isInteger(v) && v >= 0 && v <= 1023).toBe(true);
    expect(Math.max(...sa) - Math.min(...sa)).toBeGreaterThan(300); // five minutes span dark and bright
    a.device.pins.setAnalog(0, 777);
    expect(a.device.run(() => new Analog({ pin: 0 }).read())).toBe(777);
    a.device.pins.setAnalog(0, undefined);
    expect(a.device.run(() => Analog.read(0))).toBe(a.device.pins.photocell(a.clock.now()));
    expect(() => a.device.pins.setAnalog(0, 2000)).toThrow(/0\.\.1023/);
    expect(() => a.device.run(() => Analog.read(99))).toThrow(RangeError);
  });

  it("Digital: per-device levels and modes, static and instance calls, change hook, close", () => {
    const a = board("dg-1"), b = board("dg-2");
    const changes: Array<[string, number, number]> = [];
    a.device.pins.onChange((pin, level, device) => changes.push([device.id, pin, level]));
    a.device.run(() => {
      const led = new Digital({ pin: 2, mode: Digital.Output });
      led.write(1);
      led.write(1); // same level: no change event
      led.write(0);
      Digital.write(5, 1);
      expect(Digital.read(5)).toBe(1); // static read makes it an input; level stays until driven
      led.close();
      expect(() => led.write(1)).toThrow(/closed/);
    });
    expect(b.device.run(() => new Digital(2, Digital.Input).read())).toBe(0); // another board's pin 2 is untouched
    expect(a.device.pins.pin(2)).toMatchObject({ mode: Digital.Output, level: 0, writes: 3 });
    expect(a.device.pins.pin(5).mode).toBe(Digital.Input);
    expect(changes).toEqual([["dg-1", 2, 1], ["dg-1", 2, 0], ["dg-1", 5, 1]]);
    // A button on a pull-up input: idle high, pressed low; outputs ignore the outside world.
    // ([port,] pin, mode) per Moddable's docs; types/pins.d.ts declares only the two-argument form.
    const WithPort = Digital as unknown as new (port: string, pin: number, mode: number) => Digital;
    const button = a.device.run(() => new WithPort("default", 0, Digital.InputPullUp));
    expect(button.read()).toBe(1);
    a.device.pins.drive(0, 0);
    expect(button.read()).toBe(0);
    a.device.pins.drive(2, 1);
    expect(a.device.pins.level(2)).toBe(0);
    expect(() => a.device.run(() => new Digital({ pin: 4 } as { pin: number; mode: number }))).toThrow(/mode missing/);
    expect(() => a.device.run(() => new Digital(4, 77))).toThrow(/unsupported mode/);
  });
});
