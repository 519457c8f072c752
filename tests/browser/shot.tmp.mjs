import { mkdtempSync } from "node:fs";
import { chromium } from "playwright-core";

const context = await chromium.launchPersistentContext(mkdtempSync("/tmp/chr-"), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: Number(process.argv[3] ?? 1280), height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (m) => console.log("console", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror", e.message));
await page.goto("http://127.0.0.1:18080/");
await page.waitForSelector("body[data-ready=true]");
await page.waitForTimeout(2500);
await page.screenshot({ path: process.argv[2], fullPage: true });
await context.close();
