import { html, nothing, type TemplateResult } from 'lit';
import type { InboxMessage, MessageAction } from '../clients/inbox';
import { archiveIcon, readIcon, snoozeIcon, unreadIcon } from './icons';

export interface ItemContext {
  position: number;
  /** How many the list holds, or -1 while more pages remain. */
  setSize: number;
  focusable: boolean;
  text: (key: 'unread' | 'markRead' | 'markUnread' | 'archive' | 'snooze') => string;
  when: (iso: string) => { relative: string; full: string };
  toggleRead(): void;
  archive(): void;
  snooze(): void;
  use(action: MessageAction, event: Event): void;
  /** On a group's newest message: the control that opens the group, and its messages when open. */
  group?: GroupControl;
}

export interface GroupControl {
  /** What the control shows ("+2 more"), and what it does, for screen readers. */
  shown: string;
  label: string;
  expanded: boolean;
  toggle(): void;
  /** The group's other messages, while it is open. */
  items?: TemplateResult;
}

/** Only web addresses become links: a `javascript:` one in a message must not run in the app's page. */
const safeHref = (url: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(url, location.href).protocol) ? url : undefined;
  } catch {
    return undefined;
  }
};

const control = (label: string, icon: TemplateResult, act: () => void) =>
  html`<button aria-label=${label} title=${label} @click=${act}>${icon}</button>`;

/** One message of the feed: an article, with its actions and its controls. */
export function messageItem(m: InboxMessage, c: ItemContext) {
  const unread = m.read_at === null;
  const when = c.when(m.created_at);
  return html`<article
    part="item"
    class=${unread ? 'unread' : ''}
    data-id=${m.id}
    tabindex=${c.focusable ? 0 : -1}
    aria-posinset=${c.position}
    aria-setsize=${c.setSize}
    aria-labelledby="m${m.id}"
    aria-describedby=${m.subject ? `t${m.id}` : nothing}
  >
    <span class="dot" aria-hidden="true"></span>
    <div>
      <h3 id="m${m.id}">
        ${unread ? html`<span class="sr-only">${c.text('unread')} </span>` : nothing}${m.subject ?? m.text}
      </h3>
      ${m.subject ? html`<p class="text" id="t${m.id}">${m.text}</p>` : nothing}
      <div class="meta">
        <span class="when">
          <time datetime=${m.created_at} title=${when.full}>${when.relative}</time>
          ${c.group ? groupButton(m, c.group) : nothing}
        </span>
        <div class="controls">
          ${control(c.text(unread ? 'markRead' : 'markUnread'), unread ? readIcon : unreadIcon, c.toggleRead)}
          ${control(c.text('archive'), archiveIcon, c.archive)} ${control(c.text('snooze'), snoozeIcon, c.snooze)}
        </div>
      </div>
      ${
        m.actions?.length
          ? html`<div class="actions">
              ${m.actions.map((action) => {
                const href = safeHref(action.url);
                return href
                  ? html`<a
                      class="action"
                      part="action"
                      href=${href}
                      target="_blank"
                      rel="noopener noreferrer"
                      @click=${(e: Event) => c.use(action, e)}
                      >${action.label}</a
                    >`
                  : html`<button class="action" part="action" @click=${(e: Event) => c.use(action, e)}>
                      ${action.label}
                    </button>`;
              })}
            </div>`
          : nothing
      }
      ${c.group?.items ?? nothing}
    </div>
  </article>`;
}

/** Opens and closes a group; while open, it names the messages it shows. */
const groupButton = (m: InboxMessage, g: GroupControl) =>
  html`<button
    class="link more"
    part="group-toggle"
    aria-expanded=${g.expanded}
    aria-controls=${g.expanded ? `g${m.id}` : nothing}
    aria-label=${g.label}
    @click=${g.toggle}
  >
    ${g.shown}
  </button>`;
