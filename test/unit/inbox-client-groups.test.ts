import { LiveList } from '../../clients/inbox/live-list';
import type { InboxMessage } from '../../clients/inbox/types';
import { inboxMessage } from '../support/inbox-messages';

const grouped = (id: number, key: string, state: Partial<InboxMessage> = {}) =>
  inboxMessage(id, { group_key: key, ...state });
/** Each entry as a reader sees it: its id, and its group's count and unread when it stands for one. */
const entries = (list: LiveList) =>
  list.messages().map((m) => (m.group ? `${m.id} [${m.group.count}/${m.group.unread}]` : String(m.id)));

describe('a grouped list a tab keeps', () => {
  it('shows each group once, at its newest message, with the count the server gave', () => {
    const list = new LiveList({ view: 'feed', grouped: true });
    list.firstPage({ messages: [grouped(5, 'a', { group: { key: 'a', count: 3, unread: 2 } }), inboxMessage(4)] }, 1);
    expect(entries(list)).toEqual(['5 [3/2]', '4']);
  });

  it('moves a group to the top, one more in its count, when a message of it is added', () => {
    const list = new LiveList({ view: 'feed', grouped: true });
    list.firstPage({ messages: [inboxMessage(6), grouped(5, 'a', { group: { key: 'a', count: 3, unread: 2 } })] }, 1);
    list.put([grouped(7, 'a')], 2, true);
    expect(entries(list)).toEqual(['7 [4/3]', '6']);
    // The same event heard again counts once.
    list.put([grouped(7, 'a')], 3, true);
    expect(entries(list)).toEqual(['7 [4/3]', '6']);
    expect(list.uncounted([grouped(8, 'a'), grouped(9, 'b'), inboxMessage(10)])).toEqual(['b']);
  });

  it('follows the changes it can see: a message read, archived or deleted, a group read at once', () => {
    const list = new LiveList({ view: 'feed', grouped: true });
    list.firstPage({ messages: [grouped(5, 'a', { group: { key: 'a', count: 3, unread: 3 } }), inboxMessage(4)] }, 1);
    list.change('read', { ids: [5] }, 2);
    expect(entries(list)).toEqual(['5 [3/2]', '4']);
    list.put([grouped(6, 'a')], 3, true);
    list.change('archive', { ids: [6] }, 4);
    expect(entries(list)).toEqual(['5 [3/2]', '4']);
    list.change('read', { all: true, groupKey: 'a' }, 5);
    expect(entries(list)).toEqual(['5 [3/0]', '4']);
    // A change of a message it never loaded: its state before is unknown, so the count waits for a page.
    list.put([grouped(2, 'a', { read_at: '2030-01-02T00:00:00.000Z' })], 6);
    expect(entries(list)).toEqual(['5 [3/0]', '4']);
    list.delete([5], 7);
    expect(entries(list)).toEqual(['4', '2 [2/0]']);
  });

  it("keeps one group's messages, each, in a list of that group", () => {
    const list = new LiveList({ view: 'feed', groupKey: 'a' });
    list.firstPage({ messages: [grouped(5, 'a'), grouped(3, 'a')] }, 1);
    list.put([grouped(6, 'a'), grouped(7, 'b'), inboxMessage(8)], 2, true);
    expect(entries(list)).toEqual(['6', '5', '3']);
  });
});
