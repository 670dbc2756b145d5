/**
 * The served models by id, each behind the runner of its task, and whether they are ready.
 *
 * Model kinds: every served model does one task: `embedding` (EmbeddingRunner) or `rerank` (a
 * cross-encoder, RankingRunner). Routes ask `get(task, id)`; a model of the other task answers
 * WrongModelTaskError naming the model's task.
 *
 * Loading: models come as a list, a promise, or a loader function. A loader that rejects is called
 * again by the next caller that needs a model (`get`, `checkReady`), one call in flight at a time;
 * a list or promise that failed stays failed.
 */
import type { BatchReport, BatcherConfig } from './batcher.js';
import { EmbeddingRunner } from './embedding-runner.js';
import { RankingRunner } from './ranking-runner.js';
import { NotReadyError, UnknownModelError, WrongModelTaskError } from './errors.js';
import { isRankingModel, type ServedModel } from './served-model.js';

/** The runner of each model task. */
export interface RunnerByTask {
  embedding: EmbeddingRunner;
  rerank: RankingRunner;
}

export type ModelTask = keyof RunnerByTask;
export type ModelRunner = RunnerByTask[ModelTask];

/** Where the served models come from: given, promised, or loaded (and reloaded after a failure). */
export type ModelSource = readonly ServedModel[] | Promise<readonly ServedModel[]> | (() => Promise<readonly ServedModel[]>);

/** The task a served model does: a RankingModel says `task: 'rerank'`; every other model embeds. */
export function taskOf(model: ServedModel): ModelTask {
  return isRankingModel(model) ? 'rerank' : 'embedding';
}

function runnerFor(model: ServedModel, batching: BatcherConfig, onBatch: (report: BatchReport) => void): ModelRunner {
  if (isRankingModel(model)) return new RankingRunner(model, batching, onBatch);
  return new EmbeddingRunner(model, batching, onBatch);
}

type State =
  | { kind: 'loading'; lastFailure?: string }
  | { kind: 'ready'; runners: Map<string, ModelRunner> }
  | { kind: 'failed'; reason: string };

export class ModelRegistry {
  private state: State = { kind: 'loading' };
  private attempt: Promise<void>;
  private readonly loader: (() => Promise<readonly ServedModel[]>) | undefined;

  constructor(
    source: ModelSource,
    private readonly batching: BatcherConfig,
    private readonly onBatch: (model: string, report: BatchReport) => void,
  ) {
    this.loader = typeof source === 'function' ? source : undefined;
    if (typeof source === 'function') this.attempt = this.load(source);
    else if (isList(source)) {
      // A list is in service at once, before the first request.
      this.attempt = Promise.resolve();
      this.tryInstall(source);
    } else this.attempt = this.settle(source);
  }

  /** Settles when the current load attempt has (never rejects; failures go to the state). */
  get loaded(): Promise<void> {
    return this.attempt;
  }

  /**
   * Settles when the models are in service or the current attempt has failed, first starting a
   * new attempt when the last one failed (a loader only). For callers that would rather wait than
   * answer "not ready": a Worker isolate starts cold on a request.
   */
  settled(): Promise<void> {
    this.retryIfFailed();
    return this.attempt;
  }

  get ready(): boolean {
    return this.state.kind === 'ready';
  }

  /** Why the models are not in service (for NotReadyError and /ready). */
  get notReadyReason(): string {
    if (this.state.kind === 'failed') return `the models failed to load: ${this.state.reason}`;
    if (this.state.kind === 'loading' && this.state.lastFailure) return `the models failed to load: ${this.state.lastFailure}; loading them again`;
    return 'the models are still loading';
  }

  list(): ModelRunner[] {
    return this.state.kind === 'ready' ? [...this.state.runners.values()] : [];
  }

  /** Throws NotReadyError unless the models are in service; a failed loader is called again first. */
  checkReady(): void {
    if (this.state.kind === 'ready') return;
    const reason = this.notReadyReason;
    this.retryIfFailed();
    throw new NotReadyError(reason);
  }

  /**
   * The runner of `task` for model `id`, or the first model of that task when `id` is absent.
   * `param` names the request field that held the id, for UnknownModelError / WrongModelTaskError.
   */
  get<T extends ModelTask>(task: T, id: string | undefined, param = 'model'): RunnerByTask[T] {
    this.checkReady();
    const runners = (this.state as Extract<State, { kind: 'ready' }>).runners;
    if (id === undefined) {
      const first = [...runners.values()].find((r) => r.task === task) ?? runners.values().next().value!;
      if (first.task !== task) throw new WrongModelTaskError(first.id, first.task, task, param);
      return first as RunnerByTask[T];
    }
    const runner = runners.get(id);
    if (!runner) throw new UnknownModelError(id, [...runners.keys()], param);
    if (runner.task !== task) throw new WrongModelTaskError(id, runner.task, task, param);
    return runner as RunnerByTask[T];
  }

  /** Any served model by id, whatever its task (`GET /v1/models/{id}`). */
  find(id: string, param = 'model'): ModelRunner {
    this.checkReady();
    const runners = (this.state as Extract<State, { kind: 'ready' }>).runners;
    const runner = runners.get(id);
    if (!runner) throw new UnknownModelError(id, [...runners.keys()], param);
    return runner;
  }

  private retryIfFailed(): void {
    if (this.state.kind !== 'failed' || !this.loader) return;
    this.attempt = this.load(this.loader, this.state.reason);
  }

  private load(loader: () => Promise<readonly ServedModel[]>, lastFailure?: string): Promise<void> {
    this.state = lastFailure === undefined ? { kind: 'loading' } : { kind: 'loading', lastFailure };
    let models: Promise<readonly ServedModel[]>;
    try {
      models = loader();
    } catch (err) {
      models = Promise.reject(err);
    }
    return this.settle(models);
  }

  private settle(models: Promise<readonly ServedModel[]>): Promise<void> {
    return models.then(
      (list) => this.tryInstall(list),
      (err: unknown) => this.fail(err),
    );
  }

  private tryInstall(models: readonly ServedModel[]): void {
    try {
      this.install(models);
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.state = { kind: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }

  private install(models: readonly ServedModel[]): void {
    if (models.length === 0) throw new Error('createApp: no models to serve');
    const runners = new Map<string, ModelRunner>();
    for (const model of models) {
      if (runners.has(model.info.id)) throw new Error(`createApp: two models share the id '${model.info.id}'`);
      runners.set(model.info.id, runnerFor(model, this.batching, (report) => this.onBatch(model.info.id, report)));
    }
    this.state = { kind: 'ready', runners };
  }
}

function isList(source: ModelSource): source is readonly ServedModel[] {
  return Array.isArray(source);
}
