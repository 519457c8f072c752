/**
 * Secrets and certificates in settings: a secret given directly (VAR) or as a file holding it
 * (VAR_FILE, a mounted secret), and PEM files. Problems are pushed, so the group reading them
 * reports them with every other setting's.
 */
import { readFileSync } from "node:fs";
import { type ConfigProblem, setting } from "@weather/settings";
import { z } from "zod";

/** A secret given directly (VAR) or as a file holding it (VAR_FILE, a mounted secret). */
export function secretSettings(env: string, what: string) {
  return {
    value: setting({ env, description: what, secret: true, schema: z.string() }),
    file: setting({
      env: `${env}_FILE`,
      value: "PATH",
      description: `a file holding ${env} (a mounted secret; one trailing newline is ignored); not together with ${env}`,
      schema: z.string().trim(),
    }),
  };
}

/** A secret file's content without the trailing newline editors and `echo` add. */
function readSecretFile(
  setting: string,
  path: string,
  problems: ConfigProblem[],
  what: string,
  keepNewline = false,
): string | undefined {
  try {
    const raw = readFileSync(path, "utf8");
    const content = keepNewline ? raw : raw.replace(/\r?\n$/, "");
    if (content === "") problems.push({ setting, message: `${path} is empty; expected ${what}` });
    return content;
  } catch (error) {
    problems.push({
      setting,
      message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); expected ${what}`,
    });
    return undefined;
  }
}

/**
 * The secret of a pair read with secretSettings: the value, or the content of the file; both set
 * is a mistake.
 */
export function secretFrom(
  pair: { readonly value: string | undefined; readonly file: string | undefined },
  env: string,
  problems: ConfigProblem[],
): string | undefined {
  if (pair.value !== undefined && pair.value !== "" && pair.file !== undefined) {
    problems.push({ setting: env, message: `set either ${env} or ${env}_FILE, not both` });
    return undefined;
  }
  if (pair.file !== undefined) return readSecretFile(`${env}_FILE`, pair.file, problems, "the secret");
  return pair.value === "" ? undefined : pair.value;
}

/** The PEM certificates of a file, checked to hold at least one. */
export function readPem(setting: string, path: string, problems: ConfigProblem[]): string | undefined {
  const pem = readSecretFile(setting, path, problems, "PEM certificates", true);
  if (pem !== undefined && pem !== "" && !pem.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push({ setting, message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return undefined;
  }
  return pem;
}
