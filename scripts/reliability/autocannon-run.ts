/** autocannon's run handle: an event emitter (per-response events, stop()) that is also a promise of the result. */
import autocannon from 'autocannon';

export type AutocannonRun = autocannon.Instance & Promise<autocannon.Result>;

/** Starts a run. (@types/autocannon models the handle as either the emitter or the promise, never both.) */
export function startAutocannon(options: autocannon.Options): AutocannonRun {
  return autocannon(options) as unknown as AutocannonRun;
}
