import { describe, expect, it } from "vitest";
import { createPrng, type Prng } from "./prng.ts";

/** The UUID as first written (bytes, then hex per byte): `--seed` runs must keep giving these ids. */
function referenceUuid(prng: Prng): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i += 4) {
    const word = prng.uint32();
    bytes[i] = word >>> 24;
    bytes[i + 1] = (word >>> 16) & 0xff;
    bytes[i + 2] = (word >>> 8) & 0xff;
    bytes[i + 3] = word & 0xff;
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("the seeded generator's UUIDs", () => {
  it("are the ids the byte-by-byte construction gave, for every seed, as version-4 UUIDs", () => {
    for (const seed of ["bench", "year", "test", 0, 1, 0xffffffff]) {
      const prng = createPrng(seed);
      const reference = createPrng(seed);
      for (let i = 0; i < 5_000; i++) {
        const id = prng.uuid();
        expect(id).toBe(referenceUuid(reference));
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        // Interleaved with other draws, as the simulation does.
        expect(prng.next()).toBe(reference.next());
      }
    }
  });
});
