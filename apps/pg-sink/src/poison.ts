import type { ReadingDecodeError, ReadingDecodeErrorKind } from "@weather/schema";
import type { KafkaMessage } from "kafkajs";
import { cityTableOf } from "./city-tables.ts";

/** A message with no value at all (a tombstone?): nothing to decode. */
export class EmptyValueError extends Error {
  readonly kind = "empty-value";

  constructor() {
    super("message has no value (a tombstone?)");
    this.name = "EmptyValueError";
  }
}

/** A valid reading of a city whose table bootstrap has not created (or that was dropped). */
export class MissingCityTableError extends Error {
  readonly kind = "no-table";

  constructor(city: string, stationId: string) {
    const table = cityTableOf(city) ?? "(invalid name)";
    super(
      `no table ${table} for city "${city}" of station ${stationId}; run bootstrap so it creates the city's partition`,
    );
    this.name = "MissingCityTableError";
  }
}

/** Why a message cannot be stored: every cause the sink dead-letters. */
export type PoisonError = ReadingDecodeError | EmptyValueError | MissingCityTableError;

/** The metric label and the dead letter's kind header, which operators filter on. */
export type PoisonKind = ReadingDecodeErrorKind | EmptyValueError["kind"] | MissingCityTableError["kind"];

/** Why a message cannot be stored, as its dead letter's headers say it. */
export interface Poison {
  /** The error's class: ReadingDecodeError, EmptyValueError or MissingCityTableError. */
  readonly errorClass: string;
  readonly kind: PoisonKind;
  readonly message: string;
}

export function poisonOf(error: PoisonError): Poison {
  return { errorClass: error.name, kind: error.kind, message: error.message };
}

/** A message of a chunk that cannot be stored, and why. */
export interface PoisonMessage {
  /** Its place in the chunk's messages. */
  readonly index: number;
  readonly message: KafkaMessage;
  readonly poison: Poison;
}
