/**
 * A small, seedable pseudo-random number generator: sfc32 (Chris Doty-Humphrey's "Small Fast
 * Counting" generator, from PractRand), seeded through splitmix32. It passes PractRand/BigCrush,
 * has a 128-bit state and is a dozen lines, so a dependency would buy nothing. Math.random cannot be
 * seeded, and `--seed` must reproduce the exact same readings, their UUIDs included.
 */
export interface Prng {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform unsigned 32-bit integer. */
  uint32(): number;
  /** A standard normal draw (mean 0, standard deviation 1). */
  normal(): number;
  /** A version-4 UUID whose random bits come from this generator. */
  uuid(): string;
}

/** A UUID's text: 36 characters, dashes at these positions, lower-case hex digits elsewhere. */
const UUID_LENGTH = 36;
const UUID_DASHES = [8, 13, 18, 23];
const DASH = 0x2d;
const HEX_DIGITS = Uint8Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));

/** FNV-1a over the UTF-16 code units of `text`: turns a seed string and a station id into 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32: spreads one 32-bit seed over sfc32's four state words, so nearby seeds diverge at once. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator seeded by a string (any `--seed` value) or a 32-bit number. */
export function createPrng(seed: string | number): Prng {
  const mix = splitmix32(typeof seed === "number" ? seed : hash32(seed));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();

  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: sfc32's authors recommend a short warm-up after seeding.
  for (let i = 0; i < 12; i++) uint32();

  const next = (): number => uint32() / 4294967296;

  // Box-Muller gives two independent normals per pair of uniforms; keep the spare.
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - next(); // (0, 1]: log(0) would be -Infinity
    const v = next();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };

  // Four words, big-endian, as 32 hex digits in the 36 characters of a UUID: byte 6's high nibble
  // is the version (4), byte 8's two high bits the variant (10), per RFC 9562. Written as bytes
  // into one buffer and read out as one flat string: per-byte toString and join (or a template of
  // hex pairs, a rope of 20 strings) made the UUID a backfill's costliest line of the simulation.
  const text = Buffer.alloc(UUID_LENGTH);
  for (const at of UUID_DASHES) text[at] = DASH;
  const hexByte = (byte: number, at: number) => {
    text[at] = HEX_DIGITS[byte >>> 4] as number;
    text[at + 1] = HEX_DIGITS[byte & 0x0f] as number;
  };
  const uuid = (): string => {
    const w0 = uint32();
    const w1 = uint32();
    const w2 = uint32();
    const w3 = uint32();
    hexByte(w0 >>> 24, 0);
    hexByte((w0 >>> 16) & 0xff, 2);
    hexByte((w0 >>> 8) & 0xff, 4);
    hexByte(w0 & 0xff, 6);
    hexByte(w1 >>> 24, 9);
    hexByte((w1 >>> 16) & 0xff, 11);
    hexByte(((w1 >>> 8) & 0x0f) | 0x40, 14);
    hexByte(w1 & 0xff, 16);
    hexByte(((w2 >>> 24) & 0x3f) | 0x80, 19);
    hexByte((w2 >>> 16) & 0xff, 21);
    hexByte((w2 >>> 8) & 0xff, 24);
    hexByte(w2 & 0xff, 26);
    hexByte(w3 >>> 24, 28);
    hexByte((w3 >>> 16) & 0xff, 30);
    hexByte((w3 >>> 8) & 0xff, 32);
    hexByte(w3 & 0xff, 34);
    return text.toString("latin1", 0, UUID_LENGTH);
  };

  return { next, uint32, normal, uuid };
}
