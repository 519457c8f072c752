import { createLogger } from "@weather/service-kit";
import { runBootstrap } from "./bootstrap.ts";
import { readBootstrapConfig } from "./config.ts";
import { describeFailure, EXIT } from "./errors.ts";
import { formatSummary, summarize } from "./summary.ts";

const log = createLogger("bootstrap");

try {
  const config = readBootstrapConfig(process.env);
  const summary = summarize(await runBootstrap(config, log));
  log.info({ summary }, "bootstrap finished");
  console.log(formatSummary(summary));
  process.exitCode = summary.conflicts.length > 0 ? EXIT.conflict : EXIT.ok;
} catch (error) {
  const { line, exitCode } = describeFailure(error);
  // A bug deserves its stack, in the JSON log; an expected failure only the one line.
  if (exitCode === EXIT.unexpected) log.error({ err: error }, "bootstrap failed unexpectedly");
  console.error(line);
  process.exitCode = exitCode;
}
