/** Confluent wire format: magic byte 0, the schema id as a big-endian int32, then the payload. */
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_LENGTH = 5;

export interface WireHeader {
  readonly magicByte: number;
  readonly schemaId: number;
}

/** The header of a message, or undefined when it is too short to have one. */
export function readWireHeader(bytes: Uint8Array): WireHeader | undefined {
  if (bytes.length < WIRE_HEADER_LENGTH) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { magicByte: view.getUint8(0), schemaId: view.getInt32(1, false) };
}
