// The repeat interval every long-lived timer in src/ is made with: it never elapses, so the timer fires only when
// scheduled, and it keeps the timer alive: Moddable drops a timer whose repeat is 0 once its callback returns,
// even if the callback rescheduled it. One Timer.repeat(callback, NEVER) per object, then Timer.schedule(t, ms, NEVER).
export const NEVER = 0x7fffffff;
