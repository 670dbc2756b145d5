/**
 * Where the API key lives: the tab's sessionStorage only (never localStorage: a key must not
 * outlive the tab), and this page's memory when storage is refused (some privacy modes throw on
 * any access, even reading the `sessionStorage` global).
 */

/** The part of the Web Storage API the store uses. */
export type KeyStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface KeyStore {
  /** The key, or '' for none. */
  get(): string;
  /** Keeps `key`; '' forgets it. */
  set(key: string): void;
}

/** `storage` is a getter so a throwing `sessionStorage` global is caught like a throwing method. */
export function createKeyStore(storage: () => KeyStorage, name: string): KeyStore {
  let inMemory = '';
  return {
    get() {
      try {
        return storage().getItem(name) ?? '';
      } catch {
        return inMemory;
      }
    },
    set(key) {
      inMemory = key;
      try {
        if (key) storage().setItem(name, key);
        else storage().removeItem(name);
      } catch {
        // Kept in memory for this page only.
      }
    },
  };
}
