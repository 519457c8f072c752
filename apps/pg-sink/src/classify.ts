import { ReadingDecodeError, type ReadingDecoder, type WeatherReading } from "@weather/schema";
import type { KafkaMessage } from "kafkajs";
import type { Poison } from "./dead-letter.ts";
import { DependencyUnavailableError } from "./outage.ts";

export type Classified =
  | { readonly ok: true; readonly reading: WeatherReading }
  | { readonly ok: false; readonly poison: Poison };

export interface ClassifiedMessage {
  readonly message: KafkaMessage;
  readonly outcome: Classified;
}

/**
 * Turns one message into a valid reading or the reason it cannot become one. The decoder must
 * validate against the station catalog (createReadingDecoder's `catalog` option, which runs
 * validateReading): implausible values then arrive here as ReadingDecodeError kind "invalid".
 * Only bad input becomes Poison; a registry that does not answer is an outage, so the message is
 * retried instead of dead-lettered for a problem that is not its own.
 */
export async function classifyMessage(
  message: Pick<KafkaMessage, "value">,
  decoder: ReadingDecoder,
): Promise<Classified> {
  if (message.value === null || message.value.length === 0) {
    return {
      ok: false,
      poison: {
        errorClass: "EmptyValueError",
        kind: "empty-value",
        message: "message has no value (a tombstone?)",
      },
    };
  }
  try {
    return { ok: true, reading: await decoder.decode(message.value) };
  } catch (error) {
    if (error instanceof ReadingDecodeError) {
      return { ok: false, poison: { errorClass: error.name, kind: error.kind, message: error.message } };
    }
    throw new DependencyUnavailableError("schema registry", error);
  }
}
