import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FORMAT_HINTS, PATTERN_HINTS } from './schemas';

/** An RFC 9457 problem: every error Herald answers with has this shape. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    /** The request field at fault, in the notation `recipients[0].email`. */
    readonly field?: string,
  ) {
    super(detail);
  }
}

export const badRequest = (field: string, detail: string) => new Problem(400, 'Invalid request', detail, field);
export const notFound = (detail: string) => new Problem(404, 'Not found', detail);

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  /** The schema that holds the keyword (Ajv's `verbose`): its description says what the field takes. */
  parentSchema?: { description?: string };
}

/** `/recipients/0/email` + missing `text` → `recipients[0].email.text`. */
export function fieldOf(issue: AjvIssue, scope?: string): string {
  const segments = issue.instancePath.split('/').filter(Boolean);
  const child = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof child === 'string') segments.push(child);
  const path = segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
  return path || scope || 'body';
}

/** What is wrong and what to write instead: a pattern or format refused names the form it takes, with an example. */
export function describe(issue: AjvIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'enum') return `must be one of: ${(issue.params.allowedValues as string[]).join(', ')}`;
  const hint =
    issue.keyword === 'pattern'
      ? PATTERN_HINTS[issue.params.pattern as string]
      : issue.keyword === 'format'
        ? FORMAT_HINTS[issue.params.format as string]
        : undefined;
  if (hint) return hint;
  const takes = issue.parentSchema?.description;
  if ((issue.keyword === 'pattern' || issue.keyword === 'format') && takes) return `is not valid: ${takes}`;
  return issue.message ?? 'is invalid';
}

/** Formats that check a value of the documented shape against what exists: numbering plans, the zone database. */
const KNOWN_VALUE_FORMATS = new Set(['phone', 'timezone']);

function toProblem(error: FastifyError): Problem {
  if (error instanceof Problem) return error;
  if (error.validation?.length) {
    const issues = error.validation as AjvIssue[];
    // anyOf reports every branch; the issue naming the deepest field is the most specific one.
    const fields = issues.map((i) => fieldOf(i, error.validationContext));
    const depth = (field: string) => field.split(/[.[]/).length;
    const deepest = fields.reduce((best, f, i) => (depth(f) > depth(fields[best]!) ? i : best), 0);
    const issue = issues[deepest]!;
    const field = fieldOf(issue, error.validationContext);
    // The document states the shape (a pattern); a value of that shape no numbering plan or zone database
    // has is well-formed but names nothing: 422, as the document says of such values.
    if (issue.keyword === 'format' && KNOWN_VALUE_FORMATS.has(issue.params.format as string))
      return new Problem(422, 'Unknown value', `${field} ${describe(issue)}`, field);
    return new Problem(400, 'Invalid request', `${field} ${describe(issue)}`, field);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, 'Unsupported media type', 'Send the body as application/json', 'content-type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem(413, 'Request body too large', error.message, 'body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(400, 'Invalid request', 'The JSON body is empty', 'body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem(400, 'Invalid request', `The body is not valid JSON: ${error.message}`, 'body');
  }
  if (error instanceof SyntaxError)
    return new Problem(400, 'Invalid request', `The body is not valid JSON: ${error.message}`, 'body');
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new Problem(status, 'Request error', error.message);
  return new Problem(500, 'Internal error', 'Herald could not handle this request; it has been logged');
}

export function sendProblem(reply: FastifyReply, problem: Problem, instance?: string) {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      ...(problem.field ? { field: problem.field } : {}),
      ...(instance ? { instance } : {}),
    });
}

export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem, request.url.split('?')[0]);
}
