import { defineConfig } from "drizzle-kit";

// `pnpm --filter @weather/db generate` writes a new migration under drizzle/ from src/tables.ts.
// Generating needs no database; applying is the migrator's job (src/migrate.ts), run by bootstrap.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/tables.ts",
  out: "./drizzle",
});
