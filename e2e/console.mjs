// The operator's console in a real browser (issue 18's Done-when): Debian's chromium, driven
// by playwright-core, as e2e/link-flow.mjs does it.
//
//   node e2e/console.mjs [path/to/bankfeeds]        (or BANKFEEDS_BIN=path/to/bankfeeds)
//
// The script starts its own hub (`bankfeeds serve`) on a free loopback port with a SQLite
// database in a temporary directory and sets it up through the CLI and the API: two
// organisations (`bankfeeds org create`), an operator of each (`bankfeeds operator create`,
// which prints the one-time setup link), for the first a connection with an account, two
// batches and a failed one. Then the browser: the first operator sets a password through the
// setup link, finds the customer by search, opens the feed, sees its batches and the failed
// job with its code, rotates the client secret (the old one then gets a 401 from the API, the
// new one a 200) and edits the FI configuration (a refused value first, a preview, a save,
// read back through the API). The second organisation's operator then sees none of it: the
// search finds nothing and the feed's URL is a 404. Whatever happens, the browser and the hub
// are stopped and the directory removed.
//
// Screenshots: with E2E_SCREENSHOT=1 the overview and the feed page (1200×800 viewport, full
// page) are saved to docs/screenshots/console-overview.png and console-feed.png, the README's
// pictures; without it nothing is written outside the temporary directory (CI runs it so).
// CHROMIUM (default /usr/bin/chromium), E2E_HEADED=1 to watch. Exit code 0 when every check
// passed, 1 otherwise (with the page's text and the hub's log tail on failure); the whole run
// is bounded (OVERALL_MS) and every browser action too (TIMEOUT_MS).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { api, call, check, cli, launchBrowser, log, newPage, poll, repo, run, startHub, workDir } from './lib.mjs';

const screenshots = process.env.E2E_SCREENSHOT && process.env.E2E_SCREENSHOT !== '0';
const shotsDir = join(repo, 'docs/screenshots');
const OVERALL_MS = 180_000; // the whole run
const PASSWORD = 'correct horse battery staple';

const DAY = 86_400_000;
const postedAt = (daysAgo, hh) => {
  const d = new Date(Date.now() - daysAgo * DAY);
  d.setUTCHours(hh, 0, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
};

// ---------------------------------------------------------------- the FI

/// An organisation and its operator (the path of the operator's one-time setup link).
async function orgWithOperator(dbUrl, name, email) {
  const org = await cli(['org', 'create', '--name', name], dbUrl);
  check(org.client_id && org.client_secret, `org create printed no credential: ${JSON.stringify(org)}`);
  const op = await cli(['operator', 'create', '--org', org.client_id, '--email', email], dbUrl);
  check(typeof op.setup_url === 'string' && op.setup_url.includes('/console/setup?token='), `operator create printed no setup link: ${JSON.stringify(op)}`);
  const u = new URL(op.setup_url);
  log(`org "${name}" (${org.client_id}), operator ${email}`);
  return { org, email, setup: `${u.pathname}${u.search}` };
}

/// The first organisation's data: a customer with a checking account, two batches applied and
/// a third refused (a transaction id already stored with other content: TRANSACTION_ID_CONFLICT).
async function pushData(base, org) {
  const created = await api(base, org, 'POST', '/versioned/connections/create', { platform: 'INTUIT_BANK_FEEDS', name: 'Acme Widgets Ltd' });
  const q = `access_token=${encodeURIComponent(created.connection.access_token)}`;
  const got = await api(base, org, 'POST', `/versioned/accounting/bank_feeds/accounts?${q}`, {
    bank_feed_account: {
      internal_bank_account_id: 'CHK-7781',
      bank_account_type: 'bank',
      currency_code: 'USD',
      name: 'Acme Operating Account',
      bank_account_number: '000555017781',
      current_balance: 4210.55,
    },
  });
  const account = got.bank_feed_account.id;
  const batch = (txs) => ({ bank_feed_transactions: { bank_feed_account_id: account, transactions: txs } });
  const t = (id, days, amount, description) => ({ transaction_id: id, posted_at: postedAt(days, 10), amount, description });
  for (const [txs, status] of [
    [[t('A-1', 6, 1200.0, 'Invoice 220 paid'), t('A-2', 5, -310.45, 'Office rent')], 200],
    [[t('A-3', 3, -42.0, 'Card fees'), t('A-4', 2, 890.0, 'Invoice 221 paid')], 200],
    // A-1 again with another amount: refused, the job recorded as failed.
    [[t('A-1', 6, 999.99, 'Invoice 220 paid')], 409],
  ]) {
    const r = await call(base, org, 'POST', `/versioned/accounting/bank_feeds/transactions?${q}`, batch(txs));
    check(r.status === status, `pushing a batch: ${r.status} (expected ${status}) ${r.text}`);
  }
  log(`customer "Acme Widgets Ltd": account ${account}, three batches pushed`);
  return { account, token: created.connection.access_token };
}

// ---------------------------------------------------------------- the browser

async function go(page, base, path) {
  return page.goto(`${base}${path}`, { waitUntil: 'load' });
}

async function clickAndWait(page, locator, pathPattern, what) {
  await Promise.all([page.waitForURL((u) => pathPattern.test(new URL(u).pathname), { waitUntil: 'load' }), locator.click()]);
  log(`${what} → ${new URL(page.url()).pathname}`);
}

async function setPassword(page, base, setup) {
  await go(page, base, setup);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('input[name="confirm"]').fill(PASSWORD);
  await clickAndWait(page, page.locator('form button[type="submit"]'), /^\/console$/, 'set the password through the setup link');
}

async function walkConsole(page, base, bank, data) {
  await setPassword(page, base, bank.setup);
  check((await page.locator('#org-name').innerText()).trim() === 'First Community Bank', 'the overview does not name the organisation');
  // The queue runs the batches: the overview counts the failed one.
  await poll('the failed batch is not counted on the overview', async () => {
    await page.reload({ waitUntil: 'load' });
    return (await page.locator('#failed-jobs').innerText()).trim() === '1';
  });
  check((await page.locator('#transactions-chart').count()) === 1, 'the overview has no chart');
  if (screenshots) {
    mkdirSync(shotsDir, { recursive: true });
    await page.screenshot({ path: join(shotsDir, 'console-overview.png'), fullPage: true });
    log('screenshot: docs/screenshots/console-overview.png');
  }

  // Find the customer by search, open the feed.
  await clickAndWait(page, page.locator('#nav-connections'), /^\/console\/connections$/, 'Connections and feeds');
  await page.locator('#search-q').fill('acme widgets');
  await clickAndWait(page, page.locator('#search-submit'), /^\/console\/connections$/, 'search "acme widgets"');
  const hits = page.locator('#search-results a.feed-link');
  check((await hits.count()) === 1, `the search found ${await hits.count()} feeds, expected 1`);
  check((await page.locator('#search-results').innerText()).includes('•••• 7781'), 'the search does not show the masked account number');
  await clickAndWait(page, hits.first(), new RegExp(`^/console/accounts/${data.account}$`), 'open the feed');

  // Its batches (two applied, one failed with its code).
  check((await page.locator('#feed-name').innerText()).trim() === 'Acme Operating Account', 'the feed page does not name the feed');
  check((await page.locator('#feed-balance').innerText()).includes('4,210.55'), 'the feed page does not show the balance');
  const jobs = page.locator('#feed-jobs tr[class^="job-"]');
  check((await jobs.count()) === 3, `the feed page lists ${await jobs.count()} batches, expected 3`);
  check((await page.locator('#feed-jobs tr.job-success').count()) === 2, 'the feed page does not list two applied batches');
  const failed = page.locator('#feed-jobs tr.job-failure');
  check((await failed.count()) === 1, 'the feed page does not list the failed batch');
  const code = (await failed.locator('td.error-code').innerText()).trim();
  check(code === 'TRANSACTION_ID_CONFLICT', `the failed batch's code is ${JSON.stringify(code)}`);
  log(`feed page: 3 batches, the failed one ${code}`);
  if (screenshots) {
    await page.screenshot({ path: join(shotsDir, 'console-feed.png'), fullPage: true });
    log('screenshot: docs/screenshots/console-feed.png');
  }
  // The feed's failed jobs, with the message.
  await clickAndWait(page, page.locator('#feed-failed-jobs'), /^\/console\/jobs$/, 'the feed\'s failed jobs');
  check((await page.locator('body').innerText()).includes('TRANSACTION_ID_CONFLICT'), 'the failed jobs page lacks the code');

  // Rotate the client secret: the old one stops working at once, the new one works.
  check((await call(base, bank.org, 'GET', '/versioned/connections')).status === 200, 'the client secret did not work before the rotation');
  await clickAndWait(page, page.locator('#nav-settings'), /^\/console\/settings$/, 'Settings');
  await page.locator('#rotate-confirm').check();
  await clickAndWait(page, page.locator('#rotate-secret'), /^\/console\/settings\/rotate-secret$/, 'rotate the client secret');
  const secret = (await page.locator('#new-client-secret').innerText()).trim();
  check(secret.length > 20 && secret !== bank.org.client_secret, 'no new client secret shown');
  const old = await call(base, bank.org, 'GET', '/versioned/connections');
  check(old.status === 401, `the old client secret answered ${old.status}, expected 401`);
  const fresh = await call(base, { ...bank.org, client_secret: secret }, 'GET', '/versioned/connections');
  check(fresh.status === 200, `the new client secret answered ${fresh.status}: ${fresh.text}`);
  log('client secret rotated: the old one gets 401, the new one 200');
  bank.org = { ...bank.org, client_secret: secret };

  // Edit the FI configuration for Xero: a bad URL is refused with the API's code, a preview
  // shows the customer's page with the values typed, a save stores them.
  await go(page, base, '/console/settings');
  await clickAndWait(page, page.locator('#edit-fi-XERO'), /^\/console\/settings\/fi-configs\/XERO$/, 'edit the Xero FI configuration');
  await page.locator('#fi-display-name').fill('First Community Bank');
  await page.locator('#fi-login-url').fill('not a url');
  await page.locator('#fi-country-code').fill('US');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator('#fi-preview').click(),
  ]);
  await page.waitForLoadState('load');
  check(refused.status() === 400, `a bad login URL answered ${refused.status()}, expected 400`);
  check((await page.locator('#fi-config-error .error-code').innerText()).trim() === 'INVALID_URL', 'a bad login URL is not refused with INVALID_URL');
  await page.locator('#fi-login-url').fill('https://online.firstcommunity.example/login');
  await page.locator('#fi-instructions').fill('Use your online banking user ID.');
  await clickAndWait(page, page.locator('#fi-preview'), /^\/console\/settings\/fi-configs\/XERO$/, 'preview');
  const preview = await page.locator('#fi-config-preview').innerText();
  check(preview.includes('Connect your First Community Bank accounts to Xero'), `the preview does not show the values typed: ${preview}`);
  check(preview.includes('Use your online banking user ID.'), 'the preview lacks the instructions');
  check((await call(base, bank.org, 'GET', '/versioned/bank_feeds/configs/XERO')).status === 410, 'a preview saved the configuration');
  await clickAndWait(page, page.locator('#fi-save'), /^\/console\/settings\/fi-configs\/XERO$/, 'save');
  check((await page.locator('#fi-config-saved').count()) === 1, 'the save is not confirmed');
  const stored = await api(base, bank.org, 'GET', '/versioned/bank_feeds/configs/XERO');
  check(
    stored.bank_feeds_config.display_name === 'First Community Bank' &&
      stored.bank_feeds_config.login_url === 'https://online.firstcommunity.example/login',
    `the API reads back ${JSON.stringify(stored)}`,
  );
  log('FI configuration: INVALID_URL refused, previewed, saved and read back through the API');
}

async function walkOtherOrganisation(page, base, other, data) {
  await setPassword(page, base, other.setup);
  check((await page.locator('#org-name').innerText()).trim() === 'Second Savings', 'the second operator does not see their organisation');
  check((await page.locator('#failed-jobs').innerText()).trim() === '0', 'the second organisation sees failed jobs');
  await go(page, base, '/console/connections?q=acme');
  check((await page.locator('#no-results').count()) === 1, 'the second organisation\'s search finds the first one\'s customer');
  await go(page, base, '/console/connections');
  check((await page.locator('#search-results a.feed-link').count()) === 0, 'the second organisation lists feeds');
  const feed = await go(page, base, `/console/accounts/${data.account}`);
  check(feed.status() === 404, `the first organisation's feed answered ${feed.status()} to the second's operator`);
  const action = await go(page, base, `/console/accounts/${data.account}/delete`);
  check(action.status() === 404, `the first organisation's feed action answered ${action.status()}`);
  const jobs = await go(page, base, `/console/jobs?account=${data.account}`);
  check(jobs.status() === 200 && (await page.locator('#no-failures').count()) === 1, 'the second organisation sees the first one\'s failed jobs');
  log('the second organisation\'s operator sees none of it (search empty, feed 404)');
}

// ---------------------------------------------------------------- main

run(
  { name: 'the console browser test', overallMs: OVERALL_MS, pass: "the operator's console works in chromium, and one organisation sees nothing of another's" },
  async (ctx) => {
    const work = workDir('bankfeeds-e2e-console-');
    const dbUrl = `sqlite://${join(work, 'e2e.db')}`;
    // The organisations and operators first (the CLI migrates the new database).
    const bank = await orgWithOperator(dbUrl, 'First Community Bank', 'ops@firstcommunity.example');
    const other = await orgWithOperator(dbUrl, 'Second Savings', 'ops@secondsavings.example');
    const hub = await startHub(work, dbUrl);
    ctx.procs.push(hub);
    const base = hub.base;
    const data = await pushData(base, bank.org);

    ctx.browser = await launchBrowser();
    const problems = [];
    const watchedPage = async () => {
      const p = await newPage(ctx.browser);
      p.on('request', (req) => {
        if (!req.url().startsWith(`${base}/`)) problems.push(`a request left the hub: ${req.method()} ${req.url()}`);
      });
      p.on('pageerror', (e) => problems.push(`script error on ${p.url()}: ${e.message}`));
      return p;
    };

    ctx.page = await watchedPage();
    await walkConsole(ctx.page, base, bank, data);
    // The second organisation's operator, in a browser of their own (no shared cookie).
    ctx.page = await watchedPage();
    await walkOtherOrganisation(ctx.page, base, other, data);
    check(problems.length === 0, `problems seen while browsing:\n      ${problems.join('\n      ')}`);
  },
);
