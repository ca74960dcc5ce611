import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  createInbox,
  type ChangeTarget,
  type Inbox,
  type InboxChange,
  type InboxFeed,
  type InboxMessage,
  type InboxState,
  type MessageAction,
  type TokenSource,
} from '../clients/inbox';
import { bellIcon } from './icons';
import { messageItem, type ItemContext } from './message-item';
import { ENGLISH, fill, type InboxStrings } from './strings';
import { styles } from './styles';

export { createInbox };

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/**
 * `<herald-inbox base-url recipient-id token>`: a bell with the unread count that opens the recipient's
 * inbox, kept live. `token` may also be set, as a property, to a function that fetches a fresh one.
 * Dispatches `herald-action` (cancelable: cancel it to handle the link yourself) when an action is used.
 * Messages sent with one `group_key` show as one, their newest, until opened; `grouped="false"` lists each.
 */
export class HeraldInbox extends LitElement {
  static override styles = styles;
  static override properties = {
    baseUrl: { attribute: 'base-url' },
    recipientId: { attribute: 'recipient-id' },
    token: {},
    strings: { attribute: false },
    locale: {},
    snoozeMinutes: { attribute: 'snooze-minutes', type: Number },
    pageSize: { attribute: 'page-size', type: Number },
    grouped: { converter: (value: string | null) => value !== 'false' },
    open: { type: Boolean, reflect: true },
    view: { state: true },
    feeds: { state: true },
    feed: { state: true },
    failed: { state: true },
  };

  declare baseUrl: string;
  declare recipientId: string;
  declare token: TokenSource | undefined;
  declare strings: Partial<InboxStrings>;
  declare locale: string | undefined;
  declare snoozeMinutes: number;
  declare pageSize: number;
  declare grouped: boolean;
  declare open: boolean;
  declare private view: InboxState | undefined;
  declare private feeds: InboxFeed[];
  declare private feed: string | undefined;
  /** A change the server refused, said until the next one. */
  declare private failed: boolean;

  private inbox?: Inbox;
  private unsubscribe?: () => void;
  private active = 0;
  private focusOnRender?: 'item' | 'bell';
  private seenAsked = new Set<number>();
  private observer?: IntersectionObserver;
  private observed?: Element;
  private sentinelShown = false;
  private clock?: ReturnType<typeof setInterval>;

  constructor() {
    super();
    this.baseUrl = '';
    this.recipientId = '';
    this.strings = {};
    this.snoozeMinutes = 60;
    this.pageSize = 20;
    this.grouped = true;
    this.open = false;
    this.feeds = [];
    this.failed = false;
    this.addEventListener('keydown', this.onKeydown);
  }

  /** The headless client this element drives, for an app that wants more of it. */
  get client(): Inbox | undefined {
    return this.inbox;
  }

  override connectedCallback() {
    super.connectedCallback();
    document.addEventListener('click', this.closeOnOutsideClick);
    // Relative times ("5 minutes ago") move on.
    this.clock = setInterval(() => this.open && this.requestUpdate(), 30_000);
    if (this.hasUpdated) this.connectInbox();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener('click', this.closeOnOutsideClick);
    clearInterval(this.clock);
    this.disconnectInbox();
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (
      changed.has('baseUrl') ||
      changed.has('recipientId') ||
      (changed.has('grouped') && this.hasUpdated) ||
      (changed.has('token') && !this.inbox)
    )
      this.connectInbox();
  }

  private connectInbox() {
    this.disconnectInbox();
    if (!this.isConnected || !this.recipientId || !this.token) return;
    const inbox = createInbox({
      baseUrl: this.baseUrl,
      recipientId: this.recipientId,
      token: () => {
        const token = this.token ?? '';
        return typeof token === 'function' ? token() : token;
      },
      pageSize: this.pageSize,
      grouped: this.grouped,
    });
    this.inbox = inbox;
    this.unsubscribe = inbox.subscribe((state) => (this.view = state));
    // Two feeds or more are tabs, the first one shown; with fewer, the list shows every category.
    inbox.feeds().then(
      (feeds) => {
        this.feeds = feeds;
        if (feeds.length > 1 && this.feed === undefined) this.showFeed(feeds[0]!.name);
      },
      () => (this.feeds = []),
    );
  }

  private disconnectInbox() {
    this.unsubscribe?.();
    this.inbox?.close();
    this.inbox = this.unsubscribe = this.view = this.feed = undefined;
    this.seenAsked.clear();
  }

  private text(key: keyof typeof ENGLISH, values?: Record<string, string | number>): string {
    return fill(this.strings[key] ?? ENGLISH[key], values);
  }

  private get messages(): readonly InboxMessage[] {
    return this.view?.messages ?? [];
  }

  /** Every message on show: the list's, and those of the group opened. */
  private get shown(): readonly InboxMessage[] {
    return [...this.messages, ...(this.view?.expanded?.messages ?? [])];
  }

  protected override render() {
    const unread = this.view?.counts?.unread ?? 0;
    return html`<button
        class="bell"
        part="bell"
        aria-expanded=${this.open}
        aria-controls="panel"
        aria-describedby="badge"
        @click=${this.toggle}
      >
        ${bellIcon}<span class="sr-only">${this.text('bell')}</span>
      </button>
      <span
        id="badge"
        part="badge"
        class=${unread ? 'badge' : 'sr-only'}
        role="status"
        aria-label=${unread ? this.text('unreadBadge', { count: unread }) : this.text('noneUnread')}
        >${unread > 99 ? '99+' : unread || ''}</span
      >
      ${this.open ? this.renderPanel(unread) : nothing}`;
  }

  private renderPanel(unread: number) {
    const tabs = this.feeds.length > 1;
    return html`<section id="panel" part="panel" class="panel" role="dialog" aria-labelledby="title" tabindex="-1">
      <div class="head">
        <h2 id="title">${this.text('title')}</h2>
        <button class="link" ?disabled=${unread === 0} @click=${this.markAllRead}>${this.text('markAllRead')}</button>
      </div>
      ${tabs ? this.renderTabs() : nothing}
      ${this.failed ? html`<p class="sr-only" role="alert">${this.text('changeFailed')}</p>` : nothing}
      <div
        class="scroller"
        role=${tabs ? 'tabpanel' : nothing}
        aria-labelledby=${tabs ? `tab-${this.feed ?? this.feeds[0]!.name}` : nothing}
        @click=${this.onItemClick}
        @focusin=${this.onFocusIn}
      >
        ${this.renderList()}
      </div>
    </section>`;
  }

  private renderTabs() {
    const selected = this.feed ?? this.feeds[0]!.name;
    return html`<div role="tablist" aria-label=${this.text('feeds')} @keydown=${this.onTabKeydown}>
      ${this.feeds.map(
        ({ name }) =>
          html`<button
            role="tab"
            id="tab-${name}"
            aria-selected=${name === selected}
            tabindex=${name === selected ? 0 : -1}
            @click=${() => this.showFeed(name)}
          >
            ${this.strings[`feed:${name}`] ?? name}
          </button>`,
      )}
    </div>`;
  }

  private renderList() {
    const view = this.view;
    const messages = this.messages;
    if (messages.length === 0) {
      if (view?.error)
        return html`<p class="state" role="alert">
          ${this.text('loadFailed')}<button class="link" @click=${() => this.inbox?.reload()}>
            ${this.text('retry')}
          </button>
        </p>`;
      return html`<p class="state">${!view || view.loading ? this.text('loading') : this.text('empty')}</p>`;
    }
    const active = Math.min(this.active, messages.length - 1);
    const setSize = view?.hasMore ? -1 : messages.length;
    return html`<div role="feed" aria-busy=${view?.loading ?? false} aria-labelledby="title">
        ${messages.map((m, i) =>
          messageItem(m, { ...this.itemContext(m, i + 1, setSize, i === active), group: this.groupControl(m) }),
        )}
      </div>
      ${view?.hasMore ? html`<div class="sentinel"></div>` : nothing}`;
  }

  private itemContext(m: InboxMessage, position: number, setSize: number, focusable: boolean): ItemContext {
    return {
      position,
      setSize,
      focusable,
      text: (key) => this.text(key),
      when: (iso) => this.when(iso),
      toggleRead: () => this.change(m.read_at === null ? 'read' : 'unread', { ids: [m.id] }),
      archive: () => this.change('archive', { ids: [m.id] }),
      snooze: () => this.change('snooze', { ids: [m.id] }, new Date(Date.now() + this.snoozeMinutes * 60_000)),
      use: (action, event) => this.use(m, action, event),
    };
  }

  /** On a group's newest message: "+N more", and the group's other messages while it is open. */
  private groupControl(m: InboxMessage): ItemContext['group'] {
    const group = m.group;
    if (!group || group.count < 2) return undefined;
    const open = this.view?.expanded?.key === group.key ? this.view.expanded : undefined;
    const more = group.count - 1;
    return {
      shown: open ? this.text('groupLess') : this.text('groupMore', { count: more }),
      label: open ? this.text('groupLess') : this.text('groupShow', { count: more }),
      expanded: open !== undefined,
      toggle: () => (open ? this.inbox?.collapse() : void this.inbox?.expand(group.key)),
      items: open
        ? html`<div
            class="group"
            id="g${m.id}"
            role="group"
            aria-label=${this.text('groupItems', { count: group.count })}
          >
            ${open.messages
              .filter((other) => other.id !== m.id)
              .map((other, i) => messageItem(other, this.itemContext(other, i + 1, open.hasMore ? -1 : more, false)))}
            ${
              open.hasMore
                ? html`<button class="link" @click=${() => this.inbox?.loadMoreOfGroup()}>
                    ${this.text('groupNextPage')}
                  </button>`
                : nothing
            }
          </div>`
        : undefined,
    };
  }

  protected override updated() {
    this.observeSentinel();
    if (this.focusOnRender === 'item') {
      const first = this.items()[Math.min(this.active, this.messages.length - 1)];
      (first ?? this.renderRoot.querySelector<HTMLElement>('#panel'))?.focus();
    }
    if (this.focusOnRender === 'bell') this.renderRoot.querySelector<HTMLElement>('.bell')?.focus();
    this.focusOnRender = undefined;
    if (!this.open) return;
    // What the open list shows has been seen.
    const unseen = this.shown.filter((m) => m.seen_at === null && !this.seenAsked.has(m.id)).map((m) => m.id);
    if (unseen.length > 0) {
      for (const id of unseen) this.seenAsked.add(id);
      void this.change('seen', { ids: unseen });
    }
  }

  /** Infinite scroll: the next page once the end of the list comes into view. */
  private observeSentinel() {
    const sentinel = this.open ? this.renderRoot.querySelector('.sentinel') : null;
    if (sentinel === (this.observed ?? null)) return this.loadMoreIfShown();
    this.observer?.disconnect();
    this.observed = sentinel ?? undefined;
    this.sentinelShown = false;
    if (!sentinel) return;
    this.observer = new IntersectionObserver(
      ([entry]) => {
        this.sentinelShown = entry?.isIntersecting ?? false;
        this.loadMoreIfShown();
      },
      { root: this.renderRoot.querySelector('.scroller'), rootMargin: '0px 0px 150px 0px' },
    );
    this.observer.observe(sentinel);
  }

  private loadMoreIfShown() {
    if (this.sentinelShown && this.view?.hasMore && !this.view.loading) void this.inbox?.loadMore();
  }

  private toggle = () => {
    this.open = !this.open;
    this.focusOnRender = this.open ? 'item' : undefined;
  };

  private close() {
    this.open = false;
    this.focusOnRender = 'bell';
  }

  private closeOnOutsideClick = (event: Event) => {
    if (this.open && !event.composedPath().includes(this)) this.open = false;
  };

  private async change(change: InboxChange, target: ChangeTarget, until?: Date) {
    try {
      await this.inbox?.change(change, target, until);
      this.failed = false;
    } catch {
      this.failed = true;
    }
  }

  private markAllRead = () => this.change('read', { all: true, ...(this.feed ? { feed: this.feed } : {}) });

  private showFeed(name: string) {
    this.feed = name;
    this.active = 0;
    void this.inbox?.show({ feed: name });
  }

  private use(m: InboxMessage, action: MessageAction, event: Event) {
    void this.change('interacted', { ids: [m.id] });
    const told = this.dispatchEvent(
      new CustomEvent('herald-action', {
        detail: { message: m, action },
        bubbles: true,
        composed: true,
        cancelable: true,
      }),
    );
    if (!told) event.preventDefault();
  }

  private items(): HTMLElement[] {
    return [...this.renderRoot.querySelectorAll<HTMLElement>('article')];
  }

  /** Opening a message (a click on it, not on one of its buttons, or Enter) reads it. */
  private onItemClick = (event: Event) => {
    const target = event.target as Element;
    const item = target.closest('article');
    if (item && !target.closest('button, a')) this.read(item);
  };

  private read(item: HTMLElement) {
    const id = Number(item.dataset.id);
    if (this.shown.find((m) => m.id === id)?.read_at === null) void this.change('read', { ids: [id] });
  }

  private onFocusIn = (event: FocusEvent) => {
    const item = (event.target as Element).closest('article');
    const index = item ? this.items().indexOf(item) : -1;
    if (index >= 0 && index !== this.active) {
      this.active = index;
      this.requestUpdate();
    }
  };

  /** Escape closes; arrows, Home and End move between messages; Enter opens the one focused. */
  private onKeydown = (event: KeyboardEvent) => {
    if (!this.open) return;
    if (event.key === 'Escape') return this.close();
    const items = this.items();
    const focused = this.shadowRoot!.activeElement;
    // The innermost message holding the focus: an opened group's messages sit inside its newest.
    const current = items.findLastIndex((item) => item.contains(focused));
    if (event.key === 'Enter' && current >= 0 && items[current] === focused) {
      event.preventDefault();
      return this.read(items[current]!);
    }
    const next = { ArrowDown: current + 1, ArrowUp: current - 1, Home: 0, End: items.length - 1 }[event.key];
    if (next === undefined || items.length === 0) return;
    event.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, next))]!.focus();
  };

  private onTabKeydown = (event: KeyboardEvent) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step === undefined) return;
    const names = this.feeds.map((f) => f.name);
    const next = names[(names.indexOf(this.feed ?? names[0]!) + step + names.length) % names.length]!;
    this.showFeed(next);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${next}`)?.focus());
  };

  private when(iso: string) {
    const locale = this.locale || document.documentElement.lang || undefined;
    const seconds = (Date.parse(iso) - Date.now()) / 1000;
    const [unit, size] = UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? ['second', 1];
    return {
      relative: new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(Math.round(seconds / size), unit),
      full: new Date(iso).toLocaleString(locale),
    };
  }
}

// A page that loads the script twice keeps the first definition.
if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInbox);

declare global {
  interface HTMLElementTagNameMap {
    'herald-inbox': HeraldInbox;
  }
}
