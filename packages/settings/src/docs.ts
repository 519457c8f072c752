/**
 * What the docs and --help say about a worker's settings, derived from the same groups it reads:
 * `--help`, and the README tables `pnpm docs:settings` regenerates.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SettingsGroup, WorkerSettings } from "./groups.ts";
import type { Setting, Settings } from "./settings.ts";

/** The text shown for a setting's default. */
function defaultOf(spec: Setting): string | undefined {
  return spec.defaultText ?? spec.default;
}

/**
 * The `--help` text of a worker: usage, what it does, then every setting by group with its flag,
 * its variable and its default.
 */
export function helpText(options: WorkerSettings): string {
  const lines = [`Usage: ${options.name} ${options.usage ?? "[options]"}`, "", options.summary];
  if (options.details && options.details.length > 0) lines.push("", ...options.details);
  lines.push(
    "",
    "Every flag may also be set by its environment variable; a flag wins over the variable.",
    `  --help, -h: print this and exit`,
  );
  for (const group of Object.values(options.groups)) {
    lines.push("", `${group.title}:`);
    for (const spec of Object.values(group.settings)) {
      const flag =
        spec.flag === undefined ? "" : `--${spec.flag}${spec.switch ? "" : ` ${spec.value ?? "VALUE"}`}`;
      const fallback = defaultOf(spec);
      const name = [flag, spec.env].filter((part) => part !== "").join(", ");
      lines.push(
        `  ${name}`,
        `      ${spec.description}${fallback === undefined ? "" : ` (default: ${fallback})`}`,
      );
    }
  }
  return lines.join("\n");
}

/** A Markdown table of the settings, for the docs (`pnpm docs:settings`), aligned as Biome formats tables. */
export function settingsTable(settings: Settings): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = Object.values(settings).map((spec) => {
    const fallback = defaultOf(spec);
    return [
      spec.flag === undefined ? `\`${spec.env}\`` : `\`${spec.env}\`, \`--${spec.flag}\``,
      fallback === undefined ? "" : cell(`\`${fallback}\``),
      cell(spec.description),
    ];
  });
  const header = ["Setting", "Default", "Meaning"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text + " ".repeat((widths[column] ?? 0) - [...text].length)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** Every group as a heading and a table: what the docs show for a worker's settings. */
function settingsMarkdown(groups: readonly SettingsGroup[]): string {
  return groups.map((group) => `#### ${group.title}\n\n${settingsTable(group.settings)}`).join("\n\n");
}

const GENERATED_START =
  "<!-- settings: generated from the declarations by `pnpm docs:settings`; edit those, not this -->";
const GENERATED_END = "<!-- end of generated settings -->";

/**
 * The document with its generated settings section replaced by `section` (markers included), or
 * undefined when it has no such section.
 */
function withSettingsSection(document: string, section: string): string | undefined {
  const start = document.indexOf(GENERATED_START);
  const end = document.indexOf(GENERATED_END);
  if (start < 0 || end < start) return undefined;
  return `${document.slice(0, start)}${GENERATED_START}\n\n${section}\n\n${document.slice(end)}`;
}

/**
 * Regenerates the settings section of a README from the declarations (`pnpm docs:settings`); with
 * `check`, only says whether it is current. @returns whether the file was current.
 */
export function documentSettings(
  readme: URL,
  worker: Pick<WorkerSettings, "groups">,
  check = false,
): boolean {
  const path = fileURLToPath(readme);
  const before = readFileSync(path, "utf8");
  const after = withSettingsSection(before, settingsMarkdown(Object.values(worker.groups)));
  if (after === undefined) {
    throw new Error(
      `${path} has no generated settings section; add the two lines ${GENERATED_START} and ${GENERATED_END}`,
    );
  }
  if (after !== before && !check) writeFileSync(path, after);
  return after === before;
}
