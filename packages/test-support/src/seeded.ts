// Seeded test data: the generator itself is seededRandom from @weather/schema/testing (mulberry32,
// one for every test, that package's own included). The moments a test kills something and the
// poison it sends come from a printed seed, so a failing run can be replayed exactly.

/** The seed of this run: RELIABILITY_SEED when set (to replay a failure), else a fixed one per test. */
export function suiteSeed(fallback: number): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isSafeInteger(fromEnv) && process.env.RELIABILITY_SEED !== "" ? fromEnv : fallback;
}

/** A version-4 UUID drawn from `random`, so seeded test data has reproducible ids. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Fisher-Yates with the seeded generator. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
