import { GroupCommit } from '../../domain/group-commit';

describe('GroupCommit', () => {
  it('writes the items added in one turn together, and those that arrive meanwhile in the next write', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const commit = new GroupCommit<number, string>(async (items) => {
      groups.push(items);
      if (groups.length === 1) await first;
      return items.map((i) => `done ${i}`);
    });
    const results = [commit.add(1), commit.add(2)];
    await new Promise((r) => setImmediate(r));
    expect(groups).toEqual([[1, 2]]);
    results.push(commit.add(3), commit.add(4));
    await new Promise((r) => setImmediate(r));
    expect(groups).toEqual([[1, 2]]);
    release();
    expect(await Promise.all(results)).toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
    expect(groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('caps a group at its size', async () => {
    const groups: number[][] = [];
    const commit = new GroupCommit<number, number>(async (items) => {
      groups.push(items);
      return items;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((i) => commit.add(i)));
    expect(groups.map((g) => g.length).every((n) => n <= 2)).toBe(true);
    expect(groups.flat()).toEqual([1, 2, 3, 4, 5]);
  });

  it('fails only the bad item of a group that fails, writing the others one by one', async () => {
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    let calls = 0;
    const commit = new GroupCommit<number, number>(async (items) => {
      if (++calls === 1) await first;
      if (items.includes(13)) throw new Error('unlucky');
      return items.map((i) => i * 2);
    });
    const head = commit.add(1);
    const rest = [12, 13, 14].map((i) =>
      commit.add(i).then(
        (v) => ({ v }),
        (e: Error) => ({ e: e.message }),
      ),
    );
    release();
    expect(await head).toBe(2);
    expect(await Promise.all(rest)).toEqual([{ v: 24 }, { e: 'unlucky' }, { v: 28 }]);
  });
});
