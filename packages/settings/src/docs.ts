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

/** A Markdown table of the settings, for the docs (`pnpm docs:settings`). */
export function settingsTable(settings: Settings): string {
  const rows = Object.values(settings).map((spec) => {
    const fallback = defaultOf(spec);
    return [
      spec.flag === undefined ? `\`${spec.env}\`` : `\`${spec.env}\`, \`--${spec.flag}\``,
      fallback === undefined ? "" : `\`${fallback}\``,
      spec.description,
    ];
  });
  return markdownTable(["Setting", "Default", "Meaning"], rows);
}

/** A Markdown table, its columns aligned as Biome formats tables; `|` in a cell is escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escaped = rows.map((row) => row.map((text) => text.replaceAll("|", "\\|")));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...escaped.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text + " ".repeat((widths[column] ?? 0) - [...text].length)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...escaped.map(line)].join("\n");
}

/** Every group as a heading and a table: what the docs show for a worker's settings. */
function settingsMarkdown(groups: readonly SettingsGroup[]): string {
  return groups.map((group) => `#### ${group.title}\n\n${settingsTable(group.settings)}`).join("\n\n");
}

/** The two lines a document's generated section of `what` (settings, metrics) sits between. */
function markersOf(what: string): { readonly start: string; readonly end: string } {
  return {
    start: `<!-- ${what}: generated from the declarations by \`pnpm docs:settings\`; edit those, not this -->`,
    end: `<!-- end of generated ${what} -->`,
  };
}

/**
 * Regenerates the section of a document between the markers of `what` (`pnpm docs:settings`); with
 * `check`, only says whether it is current. @returns whether the file was current.
 */
export function documentSection(document: URL, what: string, markdown: string, check = false): boolean {
  const path = fileURLToPath(document);
  const { start, end } = markersOf(what);
  const before = readFileSync(path, "utf8");
  const from = before.indexOf(start);
  const to = before.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`${path} has no generated ${what} section; add the two lines ${start} and ${end}`);
  }
  const after = `${before.slice(0, from)}${start}\n\n${markdown}\n\n${before.slice(to)}`;
  if (after !== before && !check) writeFileSync(path, after);
  return after === before;
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
  return documentSection(readme, "settings", settingsMarkdown(Object.values(worker.groups)), check);
}
