/** The app's store and actions, and the hook screens read the store with. */
import { useRef, useSyncExternalStore } from 'react';
import { createActions } from './actions.ts';
import { createStore, type FlowState } from './store.ts';

export const store = createStore();
export const actions = createActions(store);

/**
 * Reads the store. The selection is cached per state object, so selectors may build new objects
 * (a Set of reachable steps) without React seeing a change on every read.
 */
export function useFlow<T>(selector: (state: FlowState) => T): T {
  const cache = useRef<{ state: FlowState; value: T } | undefined>(undefined);
  return useSyncExternalStore(store.subscribe, () => {
    const state = store.getState();
    if (cache.current?.state !== state) cache.current = { state, value: selector(state) };
    return cache.current.value;
  });
}
