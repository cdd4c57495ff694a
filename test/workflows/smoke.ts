/** A trivial workflow: proves the worker, the bundle and the dev server work together. */
export async function smokeWorkflow(name: string): Promise<string> {
  return `hello, ${name}`;
}
