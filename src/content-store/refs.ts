import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A content reference: `sha256:` and the lowercase hex SHA-256 of the content's UTF-8 bytes. Content-addressed
 * so a retried activity that stores the same text again gets the same reference (and the store one row),
 * and so a reference in workflow history says nothing about the content but its identity.
 */
export const ContentRefSchema = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits>')
  .brand<'ContentRef'>();
export type ContentRef = z.infer<typeof ContentRefSchema>;

/**
 * The bytes a string is stored as. UTF-8 cannot carry an unpaired UTF-16 surrogate: like every UTF-8 encoder,
 * this turns one into U+FFFD, so such a string comes back from the store with U+FFFD in its place (and its
 * reference is that of what comes back).
 */
export function utf8Bytes(content: string): Buffer {
  return Buffer.from(content, 'utf8');
}

/** The reference of bytes already encoded (the stores hash what they store, never a second encoding). */
export function contentRefOfBytes(bytes: Buffer): ContentRef {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as ContentRef;
}

/** The reference `put` returns for this content. */
export function contentRefOf(content: string): ContentRef {
  return contentRefOfBytes(utf8Bytes(content));
}
