import { smsSegments } from '../sms-segments';
import type { CompiledTemplateCache } from './compiled';
import type { TemplateChannel } from './content';
import { TemplateRenderError, type TemplateProblem, type TemplateWarning } from './problems';
import { messageLocales, renderTemplate, type RenderJob, type RenderedMessage } from './render-message';

/** Lengths past which a channel cuts, clips or refuses a message (characters; SMS in segments). */
export const PREVIEW_LIMITS = {
  emailSubject: 78,
  pushTitle: 65,
  pushBody: 240,
  smsSegments: 10,
  telegram: 4096,
  discord: 2000,
  slack: 40_000,
  voice: 4096,
} as const;

export interface TemplatePreview {
  /** The message as it would be sent; empty text when the template could not be rendered (see `problems`). */
  rendered: RenderedMessage;
  locale: string;
  warnings: TemplateWarning[];
  /** Why the template could not be rendered at all (a parse error, a limit); empty when it rendered. */
  problems: TemplateProblem[];
}

/** A layout or partial standing in for one the sources lack: it shows what a layout wraps, and nothing else. */
const STAND_IN = '{% block content %}{% endblock %}{% block %}{% endblock %}';
/** How many missing layouts and partials a preview stands in for before it gives up. */
const MAX_STAND_INS = 20;

/**
 * A message as a channel would carry it, with everything worth telling its author: undefined variables,
 * missing translations and partials, length and SMS cost. Never throws for the template's own faults.
 */
export async function previewTemplate(job: RenderJob, cache?: CompiledTemplateCache): Promise<TemplatePreview> {
  const warnings: TemplateWarning[] = [];
  let sources = job.sources;
  for (let attempt = 0; ; attempt++) {
    try {
      // Stand-ins change the sources, so the version's cache key no longer names them.
      const renderJob = { ...job, sources, lenient: true, cacheKey: attempt === 0 ? job.cacheKey : undefined };
      const outcome = await renderTemplate(renderJob, cache);
      warnings.push(...outcome.warnings, ...previewWarnings(job.channel, outcome.message));
      return { rendered: outcome.message, locale: outcome.locale, warnings, problems: [] };
    } catch (error) {
      if (!(error instanceof TemplateRenderError)) throw error;
      const missing = error.unknownPartial;
      if (missing !== undefined && !Object.hasOwn(sources, missing) && attempt < MAX_STAND_INS) {
        warnings.push({
          code: 'unknown_partial',
          message: `'${missing}' is not a template: it renders as nothing`,
          ...location(error),
        });
        sources = { ...sources, [missing]: STAND_IN };
        continue;
      }
      const problem: TemplateProblem = { ...location(error), message: error.reason };
      if (error.line !== undefined) problem.line = error.line;
      if (error.column !== undefined) problem.column = error.column;
      return { rendered: { text: '' }, locale: messageLocales(job).locale, warnings, problems: [problem] };
    }
  }
}

function location(error: TemplateRenderError): { channel: string; field: string } {
  return { channel: error.channel ?? '', field: error.field ?? '' };
}

/** What the length and cost of a rendered message are worth telling its author. */
export function previewWarnings(channel: TemplateChannel, message: RenderedMessage): TemplateWarning[] {
  const warnings: TemplateWarning[] = [];
  const tooLong = (field: string, text: string | undefined, limit: number, what: string) => {
    if (text !== undefined && text.length > limit) {
      warnings.push({ code: 'too_long', channel, field, message: `${text.length} characters: ${what} ${limit}` });
    }
  };
  switch (channel) {
    case 'email':
      tooLong('subject', message.subject, PREVIEW_LIMITS.emailSubject, 'many mail clients cut a subject after');
      break;
    case 'push':
      tooLong('title', message.subject, PREVIEW_LIMITS.pushTitle, 'phones cut a title after about');
      tooLong('body', message.text, PREVIEW_LIMITS.pushBody, 'phones cut a body after about');
      break;
    case 'sms': {
      const { segments, encoding } = smsSegments(message.text);
      if (segments > 1 || encoding === 'UCS-2') {
        const why = encoding === 'UCS-2' ? ' (a character outside GSM-7 makes every part 70 characters)' : '';
        warnings.push({
          code: 'sms_segments',
          channel,
          field: 'text',
          message: `sent as ${segments} ${encoding} segment${segments === 1 ? '' : 's'}${why}`,
        });
      }
      if (segments > PREVIEW_LIMITS.smsSegments) {
        warnings.push({
          code: 'too_long',
          channel,
          field: 'text',
          message: `${segments} segments: carriers may refuse more than ${PREVIEW_LIMITS.smsSegments}`,
        });
      }
      break;
    }
    case 'telegram':
    case 'discord':
    case 'slack':
    case 'voice':
      tooLong('text', message.text, PREVIEW_LIMITS[channel], `${channel} takes at most`);
      break;
  }
  return warnings;
}
