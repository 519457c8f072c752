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

  const uuid = (): string => {
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) {
      const word = uint32();
      bytes[i] = word >>> 24;
      bytes[i + 1] = (word >>> 16) & 0xff;
      bytes[i + 2] = (word >>> 8) & 0xff;
      bytes[i + 3] = word & 0xff;
    }
    // RFC 9562: version 4 in the high nibble of byte 6, variant 10xx in byte 8.
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };

  return { next, uint32, normal, uuid };
}
