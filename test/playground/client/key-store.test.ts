import { describe, expect, it } from 'vitest';
import { isRunShortcut, isSaveKey } from '../../../src/playground/client/keyboard.js';
import { createKeyStore, type KeyStorage } from '../../../src/playground/client/key-store.js';

/** A Web Storage with the methods the store uses, over a Map. */
function mapStorage(): KeyStorage & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    getItem: (name) => entries.get(name) ?? null,
    setItem: (name, value) => void entries.set(name, value),
    removeItem: (name) => void entries.delete(name),
  };
}

describe('createKeyStore', () => {
  it('keeps the key in the given storage under its name, and removes it when cleared', () => {
    const storage = mapStorage();
    const keys = createKeyStore(() => storage, 'corom-key');
    expect(keys.get()).toBe('');
    keys.set('secret');
    expect([...storage.entries]).toEqual([['corom-key', 'secret']]);
    expect(createKeyStore(() => storage, 'corom-key').get()).toBe('secret');
    keys.set('');
    expect(storage.entries.size).toBe(0);
    expect(keys.get()).toBe('');
  });

  it('falls back to memory when storage (or the global itself) throws', () => {
    const refused = createKeyStore(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    }, 'corom-key');
    expect(refused.get()).toBe('');
    refused.set('secret');
    expect(refused.get()).toBe('secret');
    refused.set('');
    expect(refused.get()).toBe('');

    const full = mapStorage();
    full.setItem = () => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    const keys = createKeyStore(() => full, 'corom-key');
    keys.set('secret');
    // Storage readable but not writable: reads go to storage (empty), as the page would see on reload.
    expect(keys.get()).toBe('');
  });
});

describe('key bindings', () => {
  const press = (key: string, mods: { ctrlKey?: boolean; metaKey?: boolean } = {}) => ({ key, ctrlKey: false, metaKey: false, ...mods });
  it('Ctrl/⌘+Enter runs; plain Enter does not (it is a line break)', () => {
    expect(isRunShortcut(press('Enter', { ctrlKey: true }))).toBe(true);
    expect(isRunShortcut(press('Enter', { metaKey: true }))).toBe(true);
    expect(isRunShortcut(press('Enter'))).toBe(false);
    expect(isRunShortcut(press('a', { ctrlKey: true }))).toBe(false);
  });
  it('Enter saves the API key', () => {
    expect(isSaveKey(press('Enter'))).toBe(true);
    expect(isSaveKey(press('Tab'))).toBe(false);
  });
});
