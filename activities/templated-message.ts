import type { Database } from '../db/connect';
import { inTenant } from '../db/tenant-scope';
import { loadPinnedTemplate, type PinnedTemplate } from '../db/templates';
import type { Channel } from '../domain/channels';
import { wrapHtmlLinks, wrapTextLinks, type LinkWrapper } from '../domain/click-links';
import type { Contact, DeliveryDetails, Message, TemplateRef } from '../domain/notification';
import { createHmac } from 'node:crypto';
import { saveTrackedLinks, type TrackedLink } from '../db/tracked-links';
import { exposeRecipient, recordEngagement } from '../db/experiments';
import { assignVariant } from '../domain/experiments/assignment';
import { TemplateRenderError } from '../domain/templates/render';
import type { RenderPool } from '../runtime/render-pool';
import type { LinkSettings } from './links';

/** What a channel sends beyond a message's text: push data, a webhook payload, Slack blocks. */
export interface RenderedExtras {
  data?: Record<string, string>;
  payload?: unknown;
  blocks?: unknown[];
}

export interface TemplatedMessage {
  message: Message;
  extras: RenderedExtras;
  details: DeliveryDetails;
}

/** Pinned versions never change: a worker keeps the last few hundred it rendered. */
const CACHED_VERSIONS = 500;
/** Channels whose text carries clickable links: not a voice call's speech, a push banner or a webhook's JSON. */
const TRACKED_TEXT: ReadonlySet<Channel> = new Set(['email', 'sms', 'telegram', 'slack', 'discord', 'in_app']);
/** Characters of a redirect id: 96 bits, too many to guess. */
const LINK_ID_LENGTH = 16;

export class TemplateNotFoundError extends Error {}

/**
 * Renders a templated message for one recipient and channel: the version the notification pinned (or the
 * recipient's experiment variant), in the recipient's locale, with links through the click redirect.
 */
export function createTemplateRendering(db: Database, renderer: Pick<RenderPool, 'render'>, links?: LinkSettings) {
  const versions = new Map<string, Promise<PinnedTemplate | undefined>>();

  const pinned = (tenantId: string, ref: TemplateRef, version: number) => {
    const pin = { key: ref.key, version, partials: ref.partials };
    const cacheKey = `${tenantId}/${ref.key}@${version}/${JSON.stringify(ref.partials)}`;
    let found = versions.get(cacheKey);
    if (!found) {
      found = inTenant(db, tenantId, (tx) => loadPinnedTemplate(tx, tenantId, pin));
      versions.set(cacheKey, found);
      found.catch(() => versions.delete(cacheKey));
      if (versions.size > CACHED_VERSIONS) versions.delete(versions.keys().next().value!);
    }
    return { cacheKey, found };
  };

  /** The recipient's variant, recorded at this first exposure if not before; anonymous ones see the control. */
  const variantOf = async (
    tenantId: string,
    experiment: NonNullable<TemplateRef['experiment']>,
    recipientId: string,
  ) => {
    if (experiment.anonymous?.includes(recipientId)) return undefined;
    const name = await inTenant(db, tenantId, (tx) =>
      exposeRecipient(
        tx,
        tenantId,
        experiment.id,
        recipientId,
        assignVariant(experiment.id, recipientId, experiment.variants),
      ),
    );
    const variant = experiment.variants.find((v) => v.name === name) ?? experiment.variants[0]!;
    return { variant: variant.name, version: variant.version };
  };

  return async function renderTemplated(input: {
    tenantId: string;
    notificationId: string;
    channel: Channel;
    recipient: Contact;
    message: Message;
    step?: number;
  }): Promise<TemplatedMessage> {
    const ref = input.message.template!;
    const assigned = ref.experiment && (await variantOf(input.tenantId, ref.experiment, input.recipient.id));
    const version = assigned?.version ?? ref.version;
    const { cacheKey, found } = pinned(input.tenantId, ref, version);
    const template = await found;
    if (!template) throw new TemplateNotFoundError(`template ${ref.key} has no version ${version}`);
    const outcome = await renderer
      .render({
        content: template.content,
        compiledEmailHtml: template.compiledEmailHtml,
        channel: input.channel,
        data: ref.data,
        locale: input.recipient.locale ?? ref.locale,
        tenantDefaultLocale: ref.tenantLocale,
        timeZone: input.recipient.timezone,
        sources: template.sources,
        cacheKey,
      })
      .catch(async (error: unknown) => {
        // A variant that cannot render for someone fails them: its guardrail counts it.
        if (assigned && error instanceof TemplateRenderError)
          await inTenant(db, input.tenantId, (tx) =>
            recordEngagement(tx, input.tenantId, ref.experiment!.id, input.recipient.id, 'failed'),
          );
        throw error;
      });
    const { subject, text, html, actionUrl, data, payload, blocks } = outcome.message;
    const tracked: TrackedLink[] = [];
    const wrap: LinkWrapper | undefined =
      links && ref.trackClicks
        ? clickWrapper(links, input, assigned ? ref.experiment!.id : undefined, (link) => tracked.push(link))
        : undefined;
    const message: Message = {
      ...(subject !== undefined ? { subject } : {}),
      text: wrap && TRACKED_TEXT.has(input.channel) ? wrapTextLinks(text, wrap) : text,
      ...(html !== undefined ? { html: wrap ? wrapHtmlLinks(html, wrap) : html } : {}),
      ...(actionUrl ? { actions: [{ label: 'Open', url: wrap?.(actionUrl) ?? actionUrl }] } : {}),
    };
    if (tracked.length > 0) await inTenant(db, input.tenantId, (tx) => saveTrackedLinks(tx, tracked));
    return {
      message,
      extras: {
        ...(data ? { data } : {}),
        ...(payload !== undefined ? { payload } : {}),
        ...(blocks ? { blocks } : {}),
      },
      details: {
        template: ref.key,
        version,
        locale: outcome.locale,
        ...(assigned ? { variant: assigned.variant, experimentId: ref.experiment!.id } : {}),
      },
    };
  };
}

/**
 * Sends each link through Herald's redirect, which counts the click and forwards. The id is derived from
 * the send and the URL, so a retry of the send makes the same link.
 */
function clickWrapper(
  links: LinkSettings,
  input: { tenantId: string; notificationId: string; channel: Channel; recipient: Contact; step?: number },
  experimentId: string | undefined,
  keep: (link: TrackedLink) => void,
): LinkWrapper {
  return (written) => {
    // Herald's own links (acknowledge, unsubscribe) act on their own.
    if (written.startsWith(links.publicUrl)) return undefined;
    // As a Location header can carry it: an IDN host in punycode, a path percent-encoded.
    const url = URL.canParse(written) ? new URL(written).href : undefined;
    if (url === undefined) return undefined;
    const step = input.step ?? 0;
    const id = createHmac('sha256', links.secret)
      .update(['click', input.tenantId, input.notificationId, input.recipient.id, input.channel, step, url].join('\n'))
      .digest('base64url')
      .slice(0, LINK_ID_LENGTH);
    keep({
      id,
      tenantId: input.tenantId,
      notificationId: input.notificationId,
      recipientId: input.recipient.id,
      channel: input.channel,
      step,
      url,
      experimentId: experimentId ?? null,
    });
    return `${links.publicUrl}/r/${id}`;
  };
}
