// Measurements made inside the dashboard page for bench/dashboard.bench.ts (plain JavaScript: it runs in the page).
const frame = () => new Promise(requestAnimationFrame);

window.probe = {
  /** Frame intervals, long tasks and fleet frames received over `seconds` while the page updates. */
  async watch(seconds) {
    const frames = [];
    const work = () => ({ events: xsmqWork.handled.count, eventMs: xsmqWork.handled.ms, draws: xsmqWork.drawn.count, drawMs: xsmqWork.drawn.ms });
    const before = work();
    let long = 0, longMs = 0, fleetEvents = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) { long++; longMs += e.duration; } }).observe({ type: "longtask" });
    const counter = new EventSource("/events");
    counter.addEventListener("fleet", () => fleetEvents++);
    const end = performance.now() + seconds * 1000;
    let last = await frame();
    while (last < end) {
      const now = await frame();
      frames.push(now - last);
      last = now;
    }
    counter.close();
    const after = work();
    const spent = {};
    for (const k of Object.keys(after)) spent[k] = after[k] - before[k];
    return { frames, long, longMs, fleetEvents, spent };
  },
  /** ms from a click on grid cell `i` to that device's panel on screen. */
  async openDevice(i) {
    const t0 = performance.now();
    document.querySelectorAll("#grid a")[i].click();
    const want = `dev${i + 1} `;
    while (!document.getElementById("d-title").textContent.startsWith(want) || document.getElementById("device").hidden) await frame();
    return performance.now() - t0;
  },
  /** ms from a click on the onoff toggle to the LED shown `on`. */
  async toggle(on) {
    const t0 = performance.now();
    document.getElementById("onoff").click();
    while (document.getElementById("led").dataset.on !== String(on)) await frame();
    return performance.now() - t0;
  },
};
