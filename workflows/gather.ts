/** Microtask turns a call waits for others of the same activation to join it. */
const GATHER_TURNS = 8;

/**
 * Gathers calls made in one activation by key and hands each key's to `flush` together: coroutines woken
 * by the same event (a timer, an activity's result) reach the same call within a few turns of each other.
 */
export function gatherer<Key, Item>(flush: (key: Key, items: Item[]) => Promise<void>): (key: Key, item: Item) => void {
  const gathering = new Map<Key, Item[]>();
  const flushGathered = async (key: Key) => {
    for (let turn = 0; turn < GATHER_TURNS; turn++) await Promise.resolve();
    const items = gathering.get(key)!;
    gathering.delete(key);
    await flush(key, items);
  };
  return (key, item) => {
    const gathered = gathering.get(key);
    if (gathered) gathered.push(item);
    else {
      gathering.set(key, [item]);
      void flushGathered(key);
    }
  };
}
