import { z } from 'zod';
import {
  AppendTranscriptArgsSchema,
  ForkTranscriptArgsSchema,
  ListOpenRunsOptionsSchema,
  ReadTranscriptOptionsSchema,
  RefListSchema,
  RunIdSchema,
  type ListOpenRunsOptions,
  type ReadTranscriptOptions,
} from './content-store';
import { ContentTooLarge, InvalidContentStoreArgument } from './errors';
import { ContentRefSchema, contentRefOfBytes, utf8Bytes, type ContentRef } from './refs';

// What both stores do before touching their database: validate arguments, encode and size contents.
// One copy, so the two implementations refuse the same things the same way.

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
    throw new InvalidContentStoreArgument(`content store: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export const parseRunId = (runId: unknown): string => parse(RunIdSchema, runId, 'runId');
/** One run id or several (`markClosed`): each checked, in order, before anything is written. */
export const parseRunIds = (runIds: unknown): string[] =>
  (Array.isArray(runIds) ? (runIds as unknown[]) : [runIds]).map(parseRunId);
export const parseRef = (ref: unknown): ContentRef => parse(ContentRefSchema, ref, 'ref');
export const parseRefs = (refs: unknown): ContentRef[] => parse(RefListSchema, refs, 'refs');
export const parseReadOptions = (options: unknown): ReadTranscriptOptions =>
  parse(ReadTranscriptOptionsSchema, options ?? {}, 'options');
export const parseListOpenRuns = (options: unknown): ListOpenRunsOptions =>
  parse(ListOpenRunsOptionsSchema, options, 'listOpenRuns');
export const parseAppend = (runId: unknown, fromSeq: unknown, refs: unknown) =>
  parse(AppendTranscriptArgsSchema, { runId, fromSeq, refs }, 'appendTranscript');
export type AppendArgs = ReturnType<typeof parseAppend>;
export const parseFork = (fromRunId: unknown, toRunId: unknown, length: unknown) =>
  parse(ForkTranscriptArgsSchema, { fromRunId, toRunId, length }, 'forkTranscript');

export interface EncodedContent {
  ref: ContentRef;
  bytes: Buffer;
}

/** UTF-8 bytes and reference of each content; {@link ContentTooLarge} before anything is encoded. */
export function encodeContents(contents: readonly unknown[], maxBytes: number): EncodedContent[] {
  contents.forEach((content, i) => {
    if (typeof content !== 'string') {
      throw new InvalidContentStoreArgument(`content store: contents[${i}]: expected a string`);
    }
    const size = Buffer.byteLength(content, 'utf8');
    if (size > maxBytes) throw new ContentTooLarge(size, maxBytes);
  });
  return (contents as readonly string[]).map((content) => {
    const bytes = utf8Bytes(content);
    return { ref: contentRefOfBytes(bytes), bytes };
  });
}

/** The same contents once per reference (a batch may repeat a content; the row is written once). */
export function distinctByRef(contents: readonly EncodedContent[]): EncodedContent[] {
  return [...new Map(contents.map((c) => [c.ref, c])).values()];
}

/** The checked arguments of `putAndAppend`: the contents encoded (too large: {@link ContentTooLarge}) and the append of their refs. */
export function parsePutAndAppend(
  runId: unknown,
  fromSeq: unknown,
  contents: readonly unknown[],
  maxBytes: number,
): { encoded: EncodedContent[]; append: AppendArgs } {
  const id = parseRunId(runId);
  const encoded = encodeContents(contents, maxBytes);
  return {
    encoded,
    append: parseAppend(
      id,
      fromSeq,
      encoded.map((c) => c.ref),
    ),
  };
}
