/**
 * Hands the isolate's thread to other requests' ready work (a timer, not a microtask, so their I/O
 * runs too): awaited between long stretches of synchronous work (a compilation's phases, compiling
 * and validating, a batch's documents), so one request never holds the thread for all of them.
 */
export const yieldThread = () => new Promise<void>((resume) => setTimeout(resume, 0));
