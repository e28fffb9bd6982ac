import { errorMessage, log } from "../lib/log";
import { envelopeOf, vaultOf } from "../queue/dead-letter";
import { d1Answers } from "../store/dead-letters";
import type { DeadLetterEnvelope } from "../queue/inbound";

/**
 * Every minute: dead letters parked in the vault while D1 was down go back to their dead-letter
 * queue once D1 answers, where the consumer stores them (by their first message id, so once). A
 * run that finds D1 still down leaves them parked. Idempotent: a letter is removed from the vault
 * only after its queue took it, and taken letters are leased, so overlapping runs do not double.
 */

const BATCH = 100;

export async function unparkDeadLetters(env: Env): Promise<number> {
  const vault = vaultOf(env);
  if ((await vault.count()) === 0) return 0;
  try {
    await d1Answers(env.DB);
  } catch (err) {
    log("warn", "unpark.d1_still_down", { error: errorMessage(err) });
    return 0;
  }
  const letters = await vault.take(BATCH);
  for (const queue of ["inbound", "outbound"] as const) {
    const mine = letters.filter((l) => l.queue === queue);
    if (mine.length === 0) continue;
    const target = queue === "inbound" ? env.INBOUND_DLQ : env.OUTBOUND_DLQ;
    await target.sendBatch(
      mine.map((l) => {
        const body: DeadLetterEnvelope = {
          ...envelopeOf(JSON.parse(l.body) as unknown, 0),
          messageId: l.messageId,
        };
        return { body, contentType: "json" as const };
      }),
    );
    await vault.remove(mine.map((l) => l.id));
  }
  log("info", "unpark.sent", { letters: letters.length });
  return letters.length;
}
