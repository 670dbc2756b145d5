/**
 * Progress of long steps (embedding a collection, ranking queries) on stderr: a cli-progress bar on
 * a terminal, plain "label: done/total" lines otherwise (logs, CI, tests), at most one per 10 %.
 */
import cliProgress from 'cli-progress';
import type { Writable } from 'node:stream';

export interface Progress {
  /** `done` items are already there (read from a cache) when the step starts. */
  start(label: string, total: number, done?: number): void;
  update(done: number): void;
  stop(): void;
}

/** Reports nothing, for library callers that did not ask for progress. */
export const SILENT_PROGRESS: Progress = { start() {}, update() {}, stop() {} };

class PlainLinesProgress implements Progress {
  private label = '';
  private total = 0;
  private lastTenth = -1;

  constructor(private readonly stream: Writable) {}

  start(label: string, total: number, done = 0): void {
    this.label = label;
    this.total = total;
    this.lastTenth = -1;
    this.stream.write(`${label}: ${done}/${total}${done > 0 ? ` (${done} cached)` : ''}\n`);
    this.lastTenth = this.tenth(done);
  }

  private tenth(done: number): number {
    return this.total === 0 ? 10 : Math.floor((done * 10) / this.total);
  }

  update(done: number): void {
    const tenth = this.tenth(done);
    if (tenth > this.lastTenth && done < this.total) {
      this.lastTenth = tenth;
      this.stream.write(`${this.label}: ${done}/${this.total} (${tenth * 10}%)\n`);
    } else if (done >= this.total && this.lastTenth < 10) {
      this.lastTenth = 10;
      this.stream.write(`${this.label}: ${done}/${this.total} done\n`);
    }
  }

  stop(): void {}
}

class TerminalBarProgress implements Progress {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: Writable) {}

  start(label: string, total: number, done = 0): void {
    this.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream as unknown as NodeJS.WritableStream,
        format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, done);
  }

  update(done: number): void {
    this.bar?.update(done);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

export function createProgress(stream: Writable): Progress {
  return (stream as Writable & { isTTY?: boolean }).isTTY ? new TerminalBarProgress(stream) : new PlainLinesProgress(stream);
}
