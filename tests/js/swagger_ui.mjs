// Drives Swagger UI at /docs in headless Chromium as a person would: "Try it out" → Execute
// on `GET /conversations`, once without authorizing and once after Authorize with the key.
// Prints what the page shows for each as one JSON line:
//   {"without_key": {"status": "401", "body": "..."}, "with_key": {...}}
// Usage: node swagger_ui.mjs BASE_URL API_KEY   (CHROMIUM names the browser)
import puppeteer from "puppeteer-core";

const [baseUrl, apiKey] = process.argv.slice(2);
const chromium = process.env.CHROMIUM;
if (!baseUrl || !apiKey || !chromium) {
  console.error("usage: CHROMIUM=... node swagger_ui.mjs BASE_URL API_KEY");
  process.exit(2);
}
// Bounded but generous: a shared, slow machine must not make this flaky.
const WAIT_MS = 60_000;
const OPERATION = "#operations-conversations-list_conversations";

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  timeout: WAIT_MS,
  protocolTimeout: WAIT_MS * 2,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

try {
  const withoutKey = await tryItOut(null);
  const withKey = await tryItOut(apiKey);
  console.log(JSON.stringify({ without_key: withoutKey, with_key: withKey }));
} finally {
  await browser.close();
}

/** Runs the operation in a fresh browser context, authorizing first when `key` is given. */
async function tryItOut(key) {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    await page.goto(`${baseUrl}/docs/`, { waitUntil: "load" });
    await page.waitForSelector(OPERATION);

    if (key !== null) {
      await (await page.waitForSelector("button.btn.authorize")).click();
      const input = await page.waitForSelector(".modal-ux input#auth-bearer-value");
      await input.type(key);
      await page.click('.modal-ux button[aria-label="Apply credentials"]');
      // Swagger UI swaps the form for a "Logout" button once the key is stored.
      await page.waitForSelector('.modal-ux button[aria-label="Remove authorization"]');
      await page.click(".modal-ux button.btn-done");
      await page.waitForSelector(".modal-ux", { hidden: true });
    }

    await page.click(`${OPERATION} .opblock-summary-control`);
    await (await page.waitForSelector(`${OPERATION} button.try-out__btn`)).click();
    await (await page.waitForSelector(`${OPERATION} button.execute`)).click();
    const status = await page.waitForSelector(
      `${OPERATION} .live-responses-table .response .response-col_status`,
    );
    const body = await page.waitForSelector(
      `${OPERATION} .live-responses-table .response-col_description pre`,
    );
    return {
      status: (await status.evaluate((node) => node.textContent)).trim(),
      body: await body.evaluate((node) => node.textContent),
    };
  } finally {
    await context.close();
  }
}
