import { LiveList } from '../../clients/inbox/live-list';
import { inboxMessage } from '../support/inbox-messages';

const message = inboxMessage;
const ids = (list: LiveList) => list.messages().map((m) => m.id);

describe('the list a tab keeps', () => {
  it('shows each message once, newest first, in its state as last heard', () => {
    const list = new LiveList({ view: 'feed' });
    list.firstPage({ messages: [message(3), message(2)] }, 10);
    list.put([message(4), message(3, { read_at: '2030-01-02T00:00:00.000Z' })], 11);
    list.put([message(4)], 12);
    expect(ids(list)).toEqual([4, 3, 2]);
    expect(list.messages()[1]!.read_at).toBe('2030-01-02T00:00:00.000Z');
  });

  it('keeps what it heard later than an answer that was overtaken on the way', () => {
    const list = new LiveList({ view: 'feed' });
    // A page asked for at 10 comes after the stream said, at 11, that 2 was read and 1 deleted.
    list.put([message(2, { read_at: '2030-01-02T00:00:00.000Z' })], 11);
    list.delete([1], 11);
    list.firstPage({ messages: [message(2), message(1)] }, 10);
    expect(ids(list)).toEqual([2]);
    expect(list.messages()[0]!.read_at).not.toBeNull();
    // Another tab's change made at 9 arrives last, and changes nothing either.
    list.change('unread', { ids: [2] }, 9);
    expect(list.messages()[0]!.read_at).not.toBeNull();
  });

  it('leaves a message older than the pages loaded to the page it belongs to', () => {
    const list = new LiveList({ view: 'feed' });
    list.firstPage({ messages: [message(9), message(8)], next: 'k' }, 1);
    list.put([message(5), message(10)], 2);
    expect(ids(list)).toEqual([10, 9, 8]);
    list.nextPage({ messages: [message(7), message(5)] }, 3);
    expect(ids(list)).toEqual([10, 9, 8, 7, 5]);
  });

  it('drops what leaves its view, and what is not of its categories', () => {
    const list = new LiveList({ view: 'feed', categories: ['billing'] });
    list.firstPage({ messages: [message(3, { category: 'billing' }), message(2, { category: 'billing' })] }, 1);
    list.put([message(4, { category: 'social' })], 2);
    list.change('archive', { ids: [3] }, 3);
    list.change('snooze', { ids: [2] }, 3, '2999-01-01T00:00:00.000Z');
    expect(ids(list)).toEqual([]);
    list.change('unarchive', { all: true, categories: ['billing'] }, 4);
    expect(ids(list)).toEqual([3]);
  });

  it('applies a change to all of a feed as the server does: the feed of those categories, first times kept', () => {
    const list = new LiveList({ view: 'all' });
    const readBefore = '2030-01-01T12:00:00.000Z';
    list.firstPage(
      {
        messages: [
          message(4, { category: 'billing' }),
          message(3, { category: 'billing', read_at: readBefore, seen_at: readBefore }),
          message(2, { category: 'social' }),
          message(1, { category: 'billing', archived_at: readBefore }),
        ],
      },
      1,
    );
    list.change('read', { all: true, categories: ['billing'] }, Date.UTC(2030, 0, 2));
    const readAt = Object.fromEntries(list.messages().map((m) => [m.id, m.read_at]));
    expect(readAt).toEqual({ 4: '2030-01-02T00:00:00.000Z', 3: readBefore, 2: null, 1: null });
  });
});
