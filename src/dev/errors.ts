/** A launcher error whose message is meant for the user as is (no stack trace needed). */
export class DevServerError extends Error {
  override readonly name: string = 'DevServerError';
}
