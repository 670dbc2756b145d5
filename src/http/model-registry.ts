/**
 * The served models by id, and whether they are ready. Routes ask it for a runner and get the
 * right HTTP error when the service is still loading (503) or the id is unknown (404).
 */
import { ApiError } from './api-error.js';
import type { BatchReport, BatcherConfig } from './batcher.js';
import { ModelRunner } from './model-runner.js';
import type { ServedModel } from '../core/served-model.js';

type State = { kind: 'loading' } | { kind: 'ready'; runners: Map<string, ModelRunner> } | { kind: 'failed'; reason: string };

export class ModelRegistry {
  private state: State = { kind: 'loading' };
  /** Resolves once the models are in service (or failed to load). */
  loaded: Promise<void>;

  constructor(
    private readonly models: readonly ServedModel[] | Promise<readonly ServedModel[]> | (() => Promise<readonly ServedModel[]>),
    private readonly batching: BatcherConfig,
    private readonly onBatch: (model: string, report: BatchReport) => void,
  ) {
    this.loaded = this.load();
  }

  /** A loader that failed is called again (one call at a time); a list or promise is not. */
  retryIfFailed(): void {
    if (this.state.kind !== 'failed' || typeof this.models !== 'function') return;
    this.state = { kind: 'loading' };
    this.loaded = this.load();
  }

  private load(): Promise<void> {
    let models: readonly ServedModel[] | Promise<readonly ServedModel[]>;
    try {
      models = typeof this.models === 'function' ? this.models() : this.models;
    } catch (err) {
      models = Promise.reject(err);
    }
    return Promise.resolve(models)
      .then((list) => this.install(list))
      .catch((err: unknown) => {
        this.state = { kind: 'failed', reason: err instanceof Error ? err.message : String(err) };
      });
  }

  get ready(): boolean {
    return this.state.kind === 'ready';
  }

  /** Why the service is not ready, for /ready and 503s. */
  get notReadyReason(): string {
    if (this.state.kind === 'failed') return `the models failed to load: ${this.state.reason}`;
    return 'the models are still loading';
  }

  list(): ModelRunner[] {
    return this.state.kind === 'ready' ? [...this.state.runners.values()] : [];
  }

  /** The runner for `id`, or the default (first) model when `id` is absent. */
  get(id: string | undefined, param = 'model'): ModelRunner {
    if (this.state.kind !== 'ready') {
      throw new ApiError(503, `The service is not ready: ${this.notReadyReason}. Retry shortly.`, { code: 'model_not_ready', headers: { 'Retry-After': '1' } });
    }
    const runners = this.state.runners;
    if (id === undefined) return runners.values().next().value as ModelRunner;
    const runner = runners.get(id);
    if (!runner) {
      throw new ApiError(404, `The model '${id}' does not exist on this server; served models: ${[...runners.keys()].map((k) => `'${k}'`).join(', ')} (see GET /v1/models)`, {
        param,
        code: 'model_not_found',
      });
    }
    return runner;
  }

  private install(models: readonly ServedModel[]): void {
    if (models.length === 0) throw new Error('createApp: no models to serve');
    const runners = new Map<string, ModelRunner>();
    for (const model of models) {
      if (runners.has(model.info.id)) throw new Error(`createApp: two models share the id '${model.info.id}'`);
      runners.set(model.info.id, new ModelRunner(model, this.batching, (report) => this.onBatch(model.info.id, report)));
    }
    this.state = { kind: 'ready', runners };
  }
}
