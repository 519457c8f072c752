/**
 * Why a message is not a reading. Each is a property of the message itself, so the sink
 * dead-letters it by kind; a registry that cannot be reached is NOT one of these (it is thrown
 * as an ordinary Error, so the message is retried rather than dead-lettered).
 * - bad-magic-byte: not Confluent wire format (first byte not 0, or shorter than the 5-byte header)
 * - unknown-schema: the registry has no schema with the message's id
 * - incompatible-schema: the id names a schema that is not a version of the reading
 * - undecodable: the payload does not parse with its writer schema
 * - invalid: decoded, but not a plausible reading (structure, or validation against the catalog)
 */
const READING_DECODE_ERROR_KINDS = [
  "bad-magic-byte",
  "unknown-schema",
  "incompatible-schema",
  "undecodable",
  "invalid",
] as const;
export type ReadingDecodeErrorKind = (typeof READING_DECODE_ERROR_KINDS)[number];

export class ReadingDecodeError extends Error {
  readonly kind: ReadingDecodeErrorKind;
  /** The schema id from the wire header, when the message had one. */
  readonly schemaId: number | undefined;
  /** For kind "invalid": every problem found, one per field. */
  readonly problems: readonly string[];

  constructor(
    kind: ReadingDecodeErrorKind,
    message: string,
    details: { schemaId?: number; problems?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ReadingDecodeError";
    this.kind = kind;
    this.schemaId = details.schemaId;
    this.problems = details.problems ?? [];
  }
}
