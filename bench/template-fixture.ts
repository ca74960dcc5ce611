/**
 * A typical template: an order-shipped message for every channel, in English and French, with ten
 * variables (a loop over the items, currency and date filters). The email is MJML with a header, a
 * two-column section, a table and a button, as a shop's transactional email is.
 */
import type { TemplateContent } from '../domain/templates/render';

const mjml = `<mjml>
  <mj-head>
    <mj-title>{{ "subject" | t: order: order_id }}</mj-title>
    <mj-preview>{{ "intro" | t: carrier: carrier }}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="22px" color="#333333" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#1f2d3d" padding="16px">
      <mj-column>
        <mj-text color="#ffffff" font-size="20px" font-weight="bold">Herald Shop</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="18px">{{ "greeting" | t: name: name }}</mj-text>
        <mj-text>{{ "intro" | t: carrier: carrier }} {{ "placed" | t: date: placed_at }}</mj-text>
        <mj-table>
          <tr style="border-bottom:1px solid #ecedee;text-align:left;">
            <th>{{ "item" | t }}</th><th>{{ "quantity" | t }}</th><th>{{ "price" | t }}</th>
          </tr>
          {% for item in items %}<tr>
            <td>{{ item.name }}</td><td>{{ item.quantity }}</td><td>{{ item.price | currency: "EUR" }}</td>
          </tr>{% endfor %}
          <tr><td colspan="2"><strong>{{ "total" | t }}</strong></td><td><strong>{{ total | currency: "EUR" }}</strong></td></tr>
        </mj-table>
        <mj-button background-color="#2e7d32" href="{{ tracking_url }}">{{ "track" | t }}</mj-button>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-weight="bold">{{ "ship_to" | t }}</mj-text>
        <mj-text>{{ address }}</mj-text>
      </mj-column>
      <mj-column>
        <mj-text font-weight="bold">{{ "arrives" | t }}</mj-text>
        <mj-text>{{ delivery_date | date_local: "long" }}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-divider border-color="#cccccc" border-width="1px" />
        <mj-text font-size="12px" color="#888888">{{ "help" | t: email: support_email }}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

export const ORDER_SHIPPED: TemplateContent = {
  email: { subject: '{{ "subject" | t: order: order_id }}', mjml },
  sms: {
    text: '{{ "greeting" | t: name: name }} {{ "items" | t: count: items.size }} ({{ total | currency: "EUR" }}): {{ tracking_url }}',
  },
  push: {
    title: '{{ "subject" | t: order: order_id }}',
    body: '{{ "arrives" | t }} {{ delivery_date | date_local: "medium" }}',
    data: { order: '{{ order_id }}', url: '{{ tracking_url }}' },
  },
  telegram: { text: '{{ "greeting" | t: name: name }} {{ "subject" | t: order: order_id }} {{ tracking_url }}' },
  slack: {
    text: '{{ "subject" | t: order: order_id }}',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: '*{{ "subject" | t: order: order_id }}*' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '{{ "total" | t }}: {{ total | currency: "EUR" }}' },
          { type: 'mrkdwn', text: '{{ "arrives" | t }}: {{ delivery_date | date_local: "medium" }}' },
        ],
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: '{{ "track" | t }}' }, url: '{{ tracking_url }}' },
        ],
      },
    ],
  },
  discord: { text: '**{{ "subject" | t: order: order_id }}** {{ "items" | t: count: items.size }} {{ tracking_url }}' },
  voice: {
    text: '{{ "greeting" | t: name: name }} {{ "subject" | t: order: order_id }}. {{ "arrives" | t }} {{ delivery_date | date_local: "full" }}.',
  },
  in_app: {
    title: '{{ "subject" | t: order: order_id }}',
    body: '{% for item in items %}{{ item.quantity }} × {{ item.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}',
    action_url: '{{ tracking_url }}',
  },
  webhook: {
    payload: {
      event: 'order.shipped',
      order: '{{ order_id }}',
      customer: '{{ name }}',
      total: '{{ total | currency: "EUR" }}',
      tracking: '{{ tracking_url }}',
    },
  },
  locales: {
    en: {
      subject: 'Order {{ order }} has shipped',
      greeting: 'Hello {{ name }},',
      intro: 'Your parcel is on its way with {{ carrier }}.',
      placed: 'You ordered it on {{ date | date_local: "long" }}.',
      item: 'Item',
      quantity: 'Qty',
      price: 'Price',
      total: 'Total',
      track: 'Track your parcel',
      ship_to: 'Shipping to',
      arrives: 'Arrives',
      items: { one: '{{ count }} item', other: '{{ count }} items' },
      help: 'Questions? Write to {{ email }}.',
    },
    fr: {
      subject: 'Commande {{ order }} expédiée',
      greeting: 'Bonjour {{ name }},',
      intro: 'Votre colis est en route avec {{ carrier }}.',
      placed: 'Commandé le {{ date | date_local: "long" }}.',
      item: 'Article',
      quantity: 'Qté',
      price: 'Prix',
      total: 'Total',
      track: 'Suivre mon colis',
      ship_to: 'Livraison à',
      arrives: 'Arrivée',
      items: { one: '{{ count }} article', other: '{{ count }} articles' },
      help: 'Une question ? Écrivez à {{ email }}.',
    },
  },
  default_locale: 'en',
};

/** A recipient's locale and time zone: half English, half French. */
export function recipientLocale(i: number): { locale: string; timezone: string } {
  return i % 2 === 0 ? { locale: 'en', timezone: 'America/New_York' } : { locale: 'fr', timezone: 'Europe/Paris' };
}

/** The template's ten variables for one recipient. */
export function orderData(i: number): Record<string, unknown> {
  return {
    name: `Customer ${i}`,
    order_id: `A-${10_000 + i}`,
    placed_at: '2026-12-01T09:30:00Z',
    items: [
      { name: 'Notebook', quantity: 2, price: 12.5 },
      { name: 'Fountain pen', quantity: 1, price: 48 },
      { name: 'Ink, blue', quantity: 3, price: 6.9 },
    ],
    total: 93.7,
    carrier: 'Colissimo',
    tracking_url: `https://track.example/parcels/${i}`,
    address: `${i} rue de la Paix, 75002 Paris`,
    delivery_date: '2026-12-09T12:00:00Z',
    support_email: 'help@shop.example',
  };
}
