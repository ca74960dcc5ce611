import { css } from 'lit';

/** The look, set from outside through `--herald-*` variables (and `::part()` for more). */
export const styles = css`
  :host {
    --accent: var(--herald-accent, #3451d1);
    --bg: var(--herald-bg, #fff);
    --fg: var(--herald-fg, #1d2430);
    --muted: var(--herald-muted, #596273);
    --border: var(--herald-border, #d9dde3);
    --unread-bg: var(--herald-unread-bg, #f1f4ff);
    --radius: var(--herald-radius, 10px);
    position: relative;
    display: inline-block;
    font: var(--herald-font, 14px/1.4 system-ui, sans-serif);
    color: var(--fg);
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
  }
  :focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .bell {
    display: grid;
    place-items: center;
    width: 2.5rem;
    height: 2.5rem;
    border: 0;
    border-radius: 50%;
    background: transparent;
  }
  .bell:hover {
    background: color-mix(in srgb, currentColor 8%, transparent);
  }
  .bell svg {
    width: 1.4rem;
    height: 1.4rem;
  }
  .badge {
    position: absolute;
    top: 0;
    right: 0;
    min-width: 1.1rem;
    padding: 0 0.3rem;
    box-sizing: border-box;
    border-radius: 0.6rem;
    background: var(--herald-badge-bg, #c4291c);
    color: var(--herald-badge-fg, #fff);
    font-size: 0.7rem;
    font-weight: 700;
    line-height: 1.1rem;
    text-align: center;
    pointer-events: none;
  }
  .panel {
    position: absolute;
    z-index: 10;
    top: calc(100% + 0.4rem);
    right: 0;
    display: flex;
    flex-direction: column;
    width: var(--herald-panel-width, min(24rem, 92vw));
    max-height: var(--herald-panel-height, 30rem);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    background: var(--bg);
    box-shadow: var(--herald-shadow, 0 10px 30px rgb(0 0 0 / 0.15));
    overflow: hidden;
  }
  .head {
    display: flex;
    align-items: center;
    justify-content: space-between;
    padding: 0.75rem 1rem;
    border-bottom: 1px solid var(--border);
  }
  h2 {
    margin: 0;
    font-size: 1rem;
  }
  .link {
    border: 0;
    padding: 0.25rem;
    background: none;
    color: var(--accent);
    font-size: 0.85rem;
  }
  .link:disabled {
    color: var(--muted);
    cursor: default;
  }
  [role='tablist'] {
    display: flex;
    gap: 0.25rem;
    padding: 0 0.75rem;
    border-bottom: 1px solid var(--border);
    overflow-x: auto;
  }
  [role='tab'] {
    border: 0;
    border-bottom: 2px solid transparent;
    padding: 0.5rem 0.5rem;
    background: none;
    color: var(--muted);
  }
  [role='tab'][aria-selected='true'] {
    border-bottom-color: var(--accent);
    color: var(--fg);
    font-weight: 600;
  }
  .scroller {
    flex: 1;
    overflow-y: auto;
  }
  article {
    display: grid;
    grid-template-columns: 0.5rem 1fr;
    gap: 0.6rem;
    padding: 0.75rem 1rem;
    border-bottom: 1px solid var(--border);
    cursor: pointer;
  }
  article:focus-visible {
    outline-offset: -2px;
  }
  article.unread {
    background: var(--unread-bg);
  }
  .dot {
    width: 0.5rem;
    height: 0.5rem;
    margin-top: 0.45rem;
    border-radius: 50%;
  }
  .unread .dot {
    background: var(--accent);
  }
  h3 {
    margin: 0;
    font-size: 0.9rem;
    font-weight: 500;
  }
  .unread h3 {
    font-weight: 700;
  }
  .text {
    margin: 0.15rem 0 0;
    display: -webkit-box;
    -webkit-line-clamp: 3;
    -webkit-box-orient: vertical;
    overflow: hidden;
  }
  .meta {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem;
    margin-top: 0.2rem;
  }
  time {
    color: var(--muted);
    font-size: 0.8rem;
  }
  .when {
    display: flex;
    align-items: center;
    gap: 0.4rem;
  }
  .more {
    padding: 0 0.25rem;
    font-size: 0.8rem;
  }
  /* An opened group's other messages, under its newest. */
  .group {
    margin: 0.5rem 0 0 -0.25rem;
    border-left: 2px solid var(--border);
  }
  .group article {
    padding: 0.5rem 0.75rem;
  }
  .group article:last-of-type {
    border-bottom: 0;
  }
  .controls {
    display: flex;
    gap: 0.15rem;
  }
  .controls button {
    display: grid;
    place-items: center;
    width: 1.75rem;
    height: 1.75rem;
    padding: 0;
    border: 0;
    border-radius: 0.4rem;
    background: none;
    color: var(--muted);
  }
  .controls button:hover {
    background: color-mix(in srgb, currentColor 12%, transparent);
    color: var(--fg);
  }
  .controls svg {
    width: 1rem;
    height: 1rem;
  }
  /* With a mouse, a message's controls show when it is pointed at or focused. */
  @media (hover: hover) {
    .controls {
      opacity: 0;
    }
    article:hover .controls,
    article:focus-within .controls {
      opacity: 1;
    }
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    margin-top: 0.5rem;
  }
  .action {
    padding: 0.25rem 0.7rem;
    border: 0;
    border-radius: 0.4rem;
    background: var(--accent);
    color: #fff;
    font-size: 0.85rem;
    text-decoration: none;
  }
  .state {
    margin: 0;
    padding: 2rem 1rem;
    color: var(--muted);
    text-align: center;
  }
  .state button {
    display: block;
    margin: 0.75rem auto 0;
  }
  .sentinel {
    height: 1px;
  }
`;
