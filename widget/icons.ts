import { svg, html } from 'lit';

/** Line icons on a 24-unit grid, drawn in the text's colour; each button that shows one is named by its string. */
const icon = (paths: ReturnType<typeof svg>) =>
  html`<svg
    viewBox="0 0 24 24"
    aria-hidden="true"
    fill="none"
    stroke="currentColor"
    stroke-width="2"
    stroke-linecap="round"
    stroke-linejoin="round"
  >
    ${paths}
  </svg>`;

export const bellIcon = icon(
  svg`<path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" /><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />`,
);
export const readIcon = icon(svg`<path d="M20 6 9 17l-5-5" />`);
export const unreadIcon = icon(svg`<rect x="3" y="5" width="18" height="14" rx="2" /><path d="m3 7 9 6 9-6" />`);
export const archiveIcon = icon(
  svg`<rect x="3" y="4" width="18" height="4" rx="1" /><path d="M5 8v11a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8M10 12h4" />`,
);
export const snoozeIcon = icon(svg`<circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 2" />`);
