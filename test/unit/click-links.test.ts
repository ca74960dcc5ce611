import { wrapHtmlLinks, wrapTextLinks } from '../../domain/click-links';

const tracked = (url: string) => `https://herald.example/r/${Buffer.from(url).toString('base64url')}`;

describe('links in a message sent through the click redirect', () => {
  it('wraps each URL in text, leaving the punctuation that ends a sentence outside', () => {
    const text = 'See https://shop.example/o/1?x=1&y=2. Or (https://shop.example/help), or https://shop.example!';
    expect(wrapTextLinks(text, tracked)).toBe(
      `See ${tracked('https://shop.example/o/1?x=1&y=2')}. Or (${tracked('https://shop.example/help')}), or ${tracked('https://shop.example')}!`,
    );
  });

  it('wraps href attributes in HTML, unescaping the URL first and escaping the new one', () => {
    const html = `<a href="https://shop.example/o?a=1&amp;b=2">Track</a> <a href='https://x.example/'>x</a> <a href="mailto:a@b">m</a>`;
    const wrapped = wrapHtmlLinks(html, tracked);
    expect(wrapped).toContain(`href="${tracked('https://shop.example/o?a=1&b=2')}"`);
    expect(wrapped).toContain(`href='${tracked('https://x.example/')}'`);
    expect(wrapped).toContain('href="mailto:a@b"');
  });

  it("leaves a stylesheet's href alone: mail clients fetch it themselves", () => {
    const html =
      '<link href="https://fonts.example/css?family=Ubuntu" rel="stylesheet"><a class="b" href="https://x.example/">x</a>';
    const wrapped = wrapHtmlLinks(html, tracked);
    expect(wrapped).toContain('<link href="https://fonts.example/css?family=Ubuntu"');
    expect(wrapped).toContain(`<a class="b" href="${tracked('https://x.example/')}"`);
  });

  it("decodes the character references Liquid's escaping writes, and stops at Slack's label", () => {
    expect(wrapHtmlLinks(`<a href="https://x.example/?q=it&#39;s&#38;b=1">x</a>`, (u) => `[${u}]`)).toBe(
      `<a href="[https://x.example/?q=it&#39;s&amp;b=1]">x</a>`,
    );
    expect(wrapTextLinks('<https://x.example/o|Your order>', (u) => `T(${u})`)).toBe(
      '<T(https://x.example/o)|Your order>',
    );
  });

  it('leaves a URL alone when the wrapper declines it', () => {
    const own = (url: string) => (url.startsWith('https://herald.example') ? undefined : tracked(url));
    expect(wrapTextLinks('Ack: https://herald.example/ack/t', own)).toBe('Ack: https://herald.example/ack/t');
    expect(wrapHtmlLinks('<a href="https://herald.example/u/t">u</a>', own)).toBe(
      '<a href="https://herald.example/u/t">u</a>',
    );
  });

  it('keeps right-to-left text and non-Latin paths intact around a link', () => {
    const text = 'مرحبا https://shop.example/طلب/1 شكرا';
    expect(wrapTextLinks(text, tracked)).toBe(`مرحبا ${tracked('https://shop.example/طلب/1')} شكرا`);
  });
});
