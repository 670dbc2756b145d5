/**
 * Download progress on stderr: a cli-progress bar (bytes, speed, ETA) when stderr is a terminal,
 * otherwise a plain line every few seconds (logs and CI must not get one line per chunk).
 */
import cliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export interface TransferProgress {
  /** A file transfer starts (or resumes at `startAt` bytes). `total` is unknown for some mirrors. */
  begin(name: string, total: number | undefined, startAt: number): void;
  /** `bytes` more arrived. */
  advance(bytes: number): void;
  /** The transfer restarted from `startAt` (the server ignored a Range request, or resumed after a drop). */
  restart(startAt: number): void;
  /** The file is complete. */
  end(): void;
  /** The transfer failed or is being retried; leave the terminal clean. */
  abort(): void;
  /** A status line (retry notices, conversion steps) that must not garble the bar. */
  note(line: string): void;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Bytes per second over a sliding window, so the speed and ETA follow the current rate. */
class RateMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5000) {}
  reset(): void {
    this.samples = [];
  }
  add(t: number, bytes: number): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }
  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.bytes - first.bytes) / dt : 0;
  }
}

class ProgressState {
  name = '';
  total: number | undefined;
  done = 0;
  startedAt = 0;
  startBytes = 0;
  readonly meter = new RateMeter();
  begin(name: string, total: number | undefined, startAt: number): void {
    this.name = name;
    this.total = total;
    this.done = startAt;
    this.startBytes = startAt;
    this.startedAt = Date.now();
    this.meter.reset();
    this.meter.add(this.startedAt, startAt);
  }
  advance(bytes: number): void {
    this.done += bytes;
    this.meter.add(Date.now(), this.done);
  }
  restart(startAt: number): void {
    this.done = startAt;
    this.startBytes = startAt;
    this.meter.reset();
    this.meter.add(Date.now(), startAt);
  }
  speed(): number {
    return this.meter.rate();
  }
  eta(): number {
    const rate = this.speed();
    return this.total !== undefined && rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
  }
  summary(): string {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const transferred = this.done - this.startBytes;
    const rate = seconds > 0 ? transferred / seconds : 0;
    const details = [
      ...(seconds >= 0.05 ? [`${formatBytes(rate)}/s`] : []),
      ...(this.startBytes > 0 ? [`resumed at ${formatBytes(this.startBytes)}`] : []),
    ];
    return `${this.name}: ${formatBytes(this.done)} in ${formatDuration(seconds)}${details.length ? ` (${details.join(', ')})` : ''}`;
  }
}

class LineProgress implements TransferProgress {
  static readonly QUIET_BELOW_BYTES = 1024 * 1024;
  private readonly state = new ProgressState();
  private lastLineAt = 0;
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}
  begin(name: string, total: number | undefined, startAt: number): void {
    this.state.begin(name, total, startAt);
    this.lastLineAt = Date.now();
    // Small files get just the summary line from end().
    if (total !== undefined && total < LineProgress.QUIET_BELOW_BYTES) return;
    const size = total !== undefined ? ` (${formatBytes(total)})` : '';
    const from = startAt > 0 ? `, resuming at ${formatBytes(startAt)}` : '';
    this.stream.write(`downloading ${name}${size}${from}\n`);
  }
  advance(bytes: number): void {
    this.state.advance(bytes);
    const now = Date.now();
    if (now - this.lastLineAt < this.intervalMs) return;
    this.lastLineAt = now;
    const s = this.state;
    const of = s.total !== undefined ? ` / ${formatBytes(s.total)} (${Math.floor((100 * s.done) / Math.max(1, s.total))}%)` : '';
    const eta = s.total !== undefined ? `, ETA ${formatDuration(s.eta())}` : '';
    this.stream.write(`  ${s.name}: ${formatBytes(s.done)}${of}, ${formatBytes(s.speed())}/s${eta}\n`);
  }
  restart(startAt: number): void {
    this.state.restart(startAt);
  }
  end(): void {
    this.stream.write(`  ${this.state.summary()}\n`);
  }
  abort(): void {}
  note(line: string): void {
    this.stream.write(`${line}\n`);
  }
}

class BarProgress implements TransferProgress {
  private readonly state = new ProgressState();
  private bar: cliProgress.SingleBar | undefined;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  private payload(): Record<string, string> {
    const s = this.state;
    return {
      file: s.name,
      done: formatBytes(s.done),
      size: s.total !== undefined ? formatBytes(s.total) : '?',
      speed: `${formatBytes(s.speed())}/s`,
      remaining: s.total !== undefined ? formatDuration(s.eta()) : '?',
    };
  }
  begin(name: string, total: number | undefined, startAt: number): void {
    this.stopBar();
    this.state.begin(name, total, startAt);
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: '{file} [{bar}] {percentage}% | {done} / {size} | {speed} | ETA {remaining}',
        barsize: 30,
        hideCursor: null,
        emptyOnZero: true,
        fps: 5,
        gracefulExit: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total ?? 0, startAt, this.payload());
  }
  advance(bytes: number): void {
    this.state.advance(bytes);
    this.bar?.update(this.state.done, this.payload());
  }
  restart(startAt: number): void {
    this.state.restart(startAt);
    this.bar?.update(startAt, this.payload());
  }
  end(): void {
    if (this.bar) {
      this.bar.update(this.state.done, this.payload());
      this.stopBar();
    }
  }
  abort(): void {
    this.stopBar();
  }
  note(line: string): void {
    // Clear the bar's line, print, and let the next render redraw the bar below.
    this.stream.write(this.bar ? `\r\x1b[K${line}\n` : `${line}\n`);
  }
  private stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class SilentProgress implements TransferProgress {
  begin(): void {}
  advance(): void {}
  restart(): void {}
  end(): void {}
  abort(): void {}
  note(): void {}
}

/** Picks the reporter for `stream`: a bar on a terminal, periodic lines elsewhere. */
export function createProgress(
  stream: NodeJS.WritableStream,
  mode: ProgressMode = 'auto',
  options: { intervalMs?: number } = {},
): TransferProgress {
  const isTty = (stream as { isTTY?: boolean }).isTTY === true;
  const chosen = mode === 'auto' ? (isTty ? 'bar' : 'lines') : mode;
  if (chosen === 'none') return new SilentProgress();
  if (chosen === 'bar') return new BarProgress(stream);
  return new LineProgress(stream, options.intervalMs ?? 5000);
}
