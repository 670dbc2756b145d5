/** A view's model selector, filled from the /v1/models list (browser only). */
import { make } from './dom.js';
import { modelOptionLabel, modelsOfKind, type ModelCard, type ModelKind } from './models.js';

/**
 * Fills `select` with the models of `kind`, keeping the previous choice while it is still served.
 * With none, one empty option saying `noneLabel`, and the selector disabled.
 */
export function fillModelSelect(select: HTMLSelectElement, models: readonly ModelCard[], kind: ModelKind, noneLabel: string): void {
  const usable = modelsOfKind(models, kind);
  const previous = select.value;
  select.replaceChildren(
    ...usable.map((model) => {
      const option = make('option', undefined, modelOptionLabel(model));
      option.value = model.id;
      return option;
    }),
  );
  if (usable.length === 0) {
    const option = make('option', undefined, noneLabel);
    option.value = '';
    select.append(option);
  } else if (usable.some((m) => m.id === previous)) {
    select.value = previous;
  }
  select.disabled = usable.length === 0;
}
