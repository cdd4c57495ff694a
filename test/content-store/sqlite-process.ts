// One of several processes writing one SQLite content store at once (sqlite.test.ts starts them). It
// says "ready", waits for "go" on stdin so all start together, then races the others and prints a JSON
// summary: which seqs of the contested run it won, which it lost, and any other error.
import { SqliteContentStore, TranscriptConflict } from '../../src/content-store';

async function main(): Promise<void> {
  const [file, contestedRun, sharedRun, ownRunPrefix, roundsText, name] = process.argv.slice(2);
  const ownRun = `${ownRunPrefix}-${name}`;
  const rounds = Number(roundsText);
  const store = new SqliteContentStore({ path: file! });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const summary = { name, won: [] as number[], lost: 0, errors: [] as string[] };
  for (let round = 0; round < rounds; round++) {
    // A short random pause: without it the first process to get the lock keeps it (the others' busy handler
    // sleeps with back-off) and nothing interleaves.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
    try {
      // Every process claims seq `round` of the contested run with its own content: one may win.
      const mine = await store.put(contestedRun!, `${name} round ${round}`);
      await store.appendTranscript(contestedRun!, round, [mine]);
      summary.won.push(round);
    } catch (error) {
      if (error instanceof TranscriptConflict) summary.lost += 1;
      else summary.errors.push(String(error));
    }
    try {
      // Every process appends the same content at the same seq of the shared run: all succeed.
      const same = await store.put(sharedRun!, `shared round ${round}`);
      await store.appendTranscript(sharedRun!, round, [same]);
      // And its own run, where nobody else writes.
      const own = await store.putMany(ownRun, [`${name} message ${round}`, `${name} tool result ${round}`]);
      await store.appendTranscript(ownRun, round * 2, own);
    } catch (error) {
      summary.errors.push(String(error));
    }
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
