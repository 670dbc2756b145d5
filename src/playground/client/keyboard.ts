/** Key bindings, as predicates over the fields of a KeyboardEvent (testable without a DOM). */

export type KeyPress = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey'>;

/** Ctrl+Enter / ⌘+Enter runs from a text box (plain Enter inserts a line break there). */
export function isRunShortcut(event: KeyPress): boolean {
  return event.key === 'Enter' && (event.ctrlKey || event.metaKey);
}

/** Enter in the one-line API key box saves it. */
export function isSaveKey(event: KeyPress): boolean {
  return event.key === 'Enter';
}
