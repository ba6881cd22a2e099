// The link flow in a real browser: Debian's chromium, driven by playwright-core, clicks through
// the QuickBooks sandbox with the demo bank and checks the feed page shows what the FI pushed.
//
//   node e2e/link-flow.mjs [path/to/bankfeeds]        (or BANKFEEDS_BIN=path/to/bankfeeds)
//
// The script starts its own hub (`bankfeeds serve`) on a free loopback port with a SQLite
// database in a temporary directory and the sandboxes turned on behind a sandbox password, sets
// up the FI through the CLI and the API, then drives the browser: the sandbox sign-in (a wrong
// password first), the demo bank with its password, the redirect's "Continue", the selection.
// Whatever happens, the browser and the hub are stopped and the directory removed.
//
// The FI pushes a batch per posting day, each with its balance, so every statement on a feed
// page it opens must have the bank's closing and tie out (opening plus its lines is the closing
// the bank reported) or show the difference; none may say "not reported" (issue 17). The card feed is opened twice: once as
// linked (it ties out), then after the FI pushed a batch whose balance is 4.70 off, where the new
// statement must say "Difference of USD 4.70" and the earlier ones are left as they were.
//
// Screenshot: with E2E_SCREENSHOT=1 the feed page (1200×800 viewport, full page) is saved to
// docs/screenshots/sandbox-feed.png, the README's picture; E2E_SCREENSHOT=<path.png> saves it
// there instead. Without it nothing is written outside the temporary directory (CI runs it so).
//
// Other knobs: CHROMIUM (default /usr/bin/chromium), E2E_HEADED=1 to watch the browser,
// E2E_STEPS=<dir> to save a full-page screenshot of the page after each click into <dir>.
// Exit code 0 when every check passed, 1 otherwise (with the hub's log tail on failure).

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { api, check, cli, launchBrowser, log, newPage, repo, run, startHub, workDir } from './lib.mjs';

const screenshotTo = (() => {
  const s = process.env.E2E_SCREENSHOT;
  if (!s || s === '0') return null;
  return s === '1' ? join(repo, 'docs/screenshots/sandbox-feed.png') : resolve(s);
})();
const stepsDir = process.env.E2E_STEPS ? resolve(process.env.E2E_STEPS) : null;
// The hub's sandbox (and demo bank) password: the sandboxes are off unless turned on.
const SANDBOX_PASSWORD = 'e2e sandbox password';
const OVERALL_MS = 180_000; // the whole run

// ---------------------------------------------------------------- the FI's data
//
// Amounts are in cents so the expected balances are exact; the API gets them as JSON numbers
// with at most two decimals, which JSON.stringify writes exactly.
const DAY = 86_400_000;
const now = Date.now();
const postedAt = (daysAgo, hh, mm) => {
  const d = new Date(now - daysAgo * DAY);
  d.setUTCHours(hh, mm, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
};
const checking = {
  internal_bank_account_id: 'CHK-0001',
  bank_account_type: 'bank',
  currency_code: 'USD',
  name: 'Business Checking',
  bank_account_number: '000123456789',
  current_balance_cents: 1_284_337, // 12843.37
  transactions: [
    { id: 'CHK-T01', days: 19, at: [14, 5], cents: 1_450_000, description: 'Invoice 1042 paid', payee: 'Northwind Traders' },
    { id: 'CHK-T02', days: 17, at: [9, 12], cents: -325_000, description: 'Office rent', payee: 'Harbor Properties LLC' },
    { id: 'CHK-T03', days: 15, at: [16, 40], cents: -8_742, description: 'Internet service', payee: 'Comcast Business' },
    { id: 'CHK-T04', days: 13, at: [10, 0], cents: -21_599, description: 'Office supplies', payee: 'Staples' },
    { id: 'CHK-T05', days: 11, at: [11, 30], cents: 287_550, description: 'Invoice 1043 paid', payee: 'Contoso Ltd' },
    { id: 'CHK-T06', days: 9, at: [8, 15], cents: -1_280_000, description: 'Payroll', payee: 'Gusto' },
    { id: 'CHK-T07', days: 7, at: [13, 45], cents: -4_999, description: 'Software subscription', payee: 'Adobe' },
    { id: 'CHK-T08', days: 5, at: [15, 20], cents: -1_250, description: 'Monthly service fee', payee: null },
    { id: 'CHK-T09', days: 3, at: [12, 10], cents: 99_875, description: 'Stripe payout', payee: 'Stripe' },
    { id: 'CHK-T10', days: 1, at: [9, 55], cents: -1, description: 'Rounding adjustment', payee: null },
  ],
};
const card = {
  internal_bank_account_id: 'CARD-0001',
  bank_account_type: 'credit_card',
  currency_code: 'USD',
  name: 'Business Card',
  bank_account_number: '4111000011112222',
  current_balance_cents: -38_470,
  transactions: [
    { id: 'CARD-T01', days: 6, at: [19, 2], cents: -12_480, description: 'Client lunch', payee: 'The Capital Grille' },
    { id: 'CARD-T02', days: 4, at: [7, 30], cents: -25_990, description: 'Flight SFO-SEA', payee: 'Alaska Airlines' },
  ],
};

// Plain decimal text, as the API takes it.
const decimal = (cents) => {
  const sign = cents < 0 ? '-' : '';
  const a = Math.abs(cents);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
};
// As the pages write money (issue 17): the currency's two decimals, thousands grouped.
const money = (cents) => decimal(cents).replace(/\B(?=(\d{3})+(?!\d))(?=\d*\.)/g, ',');
const num = (cents) => Number(decimal(cents)); // a JSON number with ≤ 2 decimals
const cents = (text) => {
  const m = /^(-?)(\d{1,3}(?:,\d{3})*)\.(\d{2})$/.exec(text.trim());
  check(m, `not an amount as the pages write them: ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * (Number(m[2].replaceAll(',', '')) * 100 + Number(m[3]));
};

// ---------------------------------------------------------------- the hub

/// The FI: an organisation configured for QuickBooks with the demo bank as its login page, one
/// customer ("Acme Ltd") with a checking account and a card, and their transactions pushed.
async function setUpFi(base, dbUrl) {
  const org = await cli(['org', 'create', '--name', 'Demo Bank'], dbUrl);
  check(org.client_id && org.client_secret, `org create printed no credential: ${JSON.stringify(org)}`);
  log(`org "${org.name}" created (${org.client_id})`);

  await api(base, org, 'PUT', '/versioned/bank_feeds/configs/INTUIT_BANK_FEEDS', {
    display_name: 'Demo Bank',
    login_url: `${base}/demo-bank/login`,
    country_code: 'US',
  });
  const created = await api(base, org, 'POST', '/versioned/connections/create', {
    platform: 'INTUIT_BANK_FEEDS',
    name: 'Acme Ltd',
  });
  const token = created.connection.access_token;
  check(typeof token === 'string' && token.length > 0, 'the connection has no access token');
  const q = `access_token=${encodeURIComponent(token)}`;

  for (const a of [checking, card]) {
    const got = await api(base, org, 'POST', `/versioned/accounting/bank_feeds/accounts?${q}`, {
      bank_feed_account: {
        internal_bank_account_id: a.internal_bank_account_id,
        bank_account_type: a.bank_account_type,
        currency_code: a.currency_code,
        name: a.name,
        bank_account_number: a.bank_account_number,
        current_balance: num(a.current_balance_cents),
      },
    });
    a.id = got.bank_feed_account.id;
    // What the statements must open at: the FI's balance less everything it sent.
    a.opening_cents = a.current_balance_cents - a.transactions.reduce((sum, t) => sum + t.cents, 0);
    // A batch per posting day with the bank's balance after it, so each day has its figure.
    let balance = a.opening_cents;
    for (const days of new Set(a.transactions.map((t) => t.days))) {
      const day = a.transactions.filter((t) => t.days === days);
      balance += day.reduce((sum, t) => sum + t.cents, 0);
      await api(base, org, 'POST', `/versioned/accounting/bank_feeds/transactions?${q}`, {
        bank_feed_transactions: {
          bank_feed_account_id: a.id,
          current_balance: num(balance),
          transactions: day.map((t) => ({
            transaction_id: t.id,
            posted_at: postedAt(t.days, ...t.at),
            amount: num(t.cents),
            description: t.description,
            ...(t.payee ? { payee: t.payee } : {}),
          })),
        },
      });
    }
    log(`${a.name}: account ${a.id}, ${a.transactions.length} transactions pushed, balance ${money(a.current_balance_cents)}`);
  }
  return { org, token };
}

// ---------------------------------------------------------------- the browser

let shot = 0;
// Error pages the walk provokes on purpose (status and path), so they are not problems.
const expectedErrors = new Set();
async function clickAndWait(page, locator, urlPattern, what) {
  await Promise.all([page.waitForURL(urlPattern, { waitUntil: 'load' }), locator.click()]);
  log(`${what} → ${new URL(page.url()).pathname}`);
  if (stepsDir) {
    const name = `${String(++shot).padStart(2, '0')}-${what.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.png`;
    await page.screenshot({ path: join(stepsDir, name), fullPage: true });
  }
}

async function walkLinkFlow(page, base) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const at = (path) => new RegExp(`^${esc(base)}${path}$`);

  // The QuickBooks sandbox: first its sign-in (a wrong password is refused), then back to the
  // page asked for.
  await page.goto(`${base}/sandbox/intuit/`, { waitUntil: 'load' });
  check(new URL(page.url()).pathname === '/sandbox/signin', `the sandbox did not ask to sign in: ${page.url()}`);
  if (stepsDir) {
    mkdirSync(stepsDir, { recursive: true });
    await page.screenshot({ path: join(stepsDir, '00-sandbox-signin.png'), fullPage: true });
  }
  await page.locator('#sandbox-password').fill('not the password');
  expectedErrors.add('401 /sandbox/signin');
  const refused = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('#sandbox-sign-in').click()]);
  check(refused[0].status() === 401, `a wrong sandbox password answered ${refused[0].status()}`);
  await page.waitForLoadState('load');
  await page.goBack({ waitUntil: 'load' });
  await page.locator('#sandbox-password').fill(SANDBOX_PASSWORD);
  await clickAndWait(page, page.locator('#sandbox-sign-in'), at('/sandbox/intuit/'), 'sign in to the sandbox');
  const session = (await page.context().cookies()).find((c) => c.name === 'bf_sandbox');
  check(session && session.httpOnly && session.sameSite === 'Lax', `the sandbox session cookie is not HttpOnly, SameSite=Lax: ${JSON.stringify(session)}`);
  check((await page.locator('h1').innerText()) === 'Companies', 'the sandbox index has no "Companies" heading');
  await page.locator('input[name="name"]').fill('Acme Books');
  await clickAndWait(page, page.getByRole('button', { name: 'Create company' }), at('/sandbox/intuit/companies/[^/?]+'), 'create company "Acme Books"');
  const companyUrl = page.url();
  check((await page.locator('h1').innerText()) === 'Acme Books', 'the company page is not titled "Acme Books"');

  // Connect your bank → the demo bank is listed.
  await clickAndWait(page, page.locator('#connect-bank'), at('/sandbox/intuit/companies/[^/?]+/connect'), 'Connect your bank');
  await clickAndWait(page, page.getByRole('button', { name: 'Connect Demo Bank' }), at('/demo-bank/login\\?redirect_uri=.+'), 'Connect Demo Bank');

  // The demo bank's sign-in page: says it is a demo, names the company, offers the customer.
  const banner = await page.locator('.banner').innerText();
  check(banner.includes('This is a demo'), `the demo bank does not say it is a demo: ${banner}`);
  check((await page.locator('main').innerText()).includes('Acme Books'), 'the demo bank login does not name the company');
  const customer = page.getByLabel('Acme Ltd');
  check((await customer.count()) === 1, 'the demo bank does not offer the customer "Acme Ltd"');
  await customer.check();
  check(banner.includes('sandbox password'), `the demo bank does not say what its password is: ${banner}`);
  await page.locator('#password').fill(SANDBOX_PASSWORD);
  // Back at the hub's /link/intuit/redirect: its GET changes nothing and asks to continue.
  await clickAndWait(page, page.locator('#sign-in'), at('/link/intuit/redirect\\?challenge=.+'), 'sign in at the demo bank');
  check((await page.locator('main').innerText()).includes('Acme Books'), 'the continue page does not name the company');
  check(!(await page.content()).includes('bfotp_'), 'the continue page holds the OTP');
  // Continue (a POST with its CSRF token) uses the OTP and goes on to the selection.
  await clickAndWait(page, page.locator('#continue'), at('/link/intuit/select'), 'Continue');

  // Choose the accounts: both offered and ticked, from 30 days back by default.
  for (const a of [checking, card]) {
    const box = page.locator(`input[type="checkbox"][name="account"][value="${a.id}"]`);
    check((await box.count()) === 1, `account ${a.name} (${a.id}) is not offered`);
    check(await box.isChecked(), `account ${a.name} is not ticked by default`);
    const last4 = a.bank_account_number.slice(-4);
    const label = await page.locator(`label[for="account-${a.id}"]`).innerText();
    check(label.includes(a.name) && label.includes(last4), `account label ${JSON.stringify(label)} lacks the name or ••${last4}`);
  }
  const start = await page.locator('input[name="start_date"]').inputValue();
  // (either side of a UTC midnight that passed since the page was made)
  const daysBack = (ms) => new Date(ms - 30 * DAY).toISOString().slice(0, 10);
  const expectedStart = [daysBack(Date.now()), daysBack(Date.now() - 60_000)];
  check(expectedStart.includes(start), `default start date ${start}, expected ${expectedStart[0]} (30 days back)`);
  await clickAndWait(page, page.locator('#connect-accounts'), companyUrl, 'connect accounts');

  // The company page: both feeds active.
  const rows = page.locator('#feeds tbody tr');
  check((await rows.count()) === 2, `the company page lists ${await rows.count()} feeds, expected 2`);
  check((await page.locator('#feeds .status.active').count()) === 2, 'not every feed is active');

  // The checking feed: QuickBooks pulls when the page is opened.
  await clickAndWait(page, page.locator('#feeds').getByRole('link', { name: checking.name }), at(`/sandbox/intuit/companies/[^/?]+/feeds/${esc(checking.id)}`), `open the feed "${checking.name}"`);
  const statuses = await checkFeedPage(page, checking);
  check(statuses.every((st) => st !== 'difference'), `a statement of "${checking.name}" does not tie out: ${statuses}`);

  // The card feed, as linked: it ties out too.
  await page.goto(companyUrl, { waitUntil: 'load' });
  await clickAndWait(page, page.locator('#feeds').getByRole('link', { name: card.name }), at(`/sandbox/intuit/companies/[^/?]+/feeds/${esc(card.id)}`), `open the feed "${card.name}"`);
  const cardStatuses = await checkFeedPage(page, card);
  check(cardStatuses.every((st) => st !== 'difference'), `a statement of "${card.name}" does not tie out: ${cardStatuses}`);

  check(!page.url().includes('bfotp_'), 'the final URL carries an OTP');
}

/// The FI pushes a card payment with a balance 4.70 off (−430.00 where −384.70 − 50.00 is
/// −434.70): QuickBooks accepts it and continuity records the break; the card's page, opened
/// again, must show the new statement's difference.
async function breakTheCard(page, base, org, token) {
  const t = { id: 'CARD-T03', cents: -5_000, description: 'Taxi to the airport', payee: 'Yellow Cab' };
  const posted = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  t.date = posted.slice(0, 10);
  const reported = card.current_balance_cents + t.cents + 470;
  await api(base, org, 'POST', `/versioned/accounting/bank_feeds/transactions?access_token=${encodeURIComponent(token)}`, {
    bank_feed_transactions: {
      bank_feed_account_id: card.id,
      current_balance: num(reported),
      transactions: [{ transaction_id: t.id, posted_at: posted, amount: num(t.cents), description: t.description, payee: t.payee }],
    },
  });
  card.transactions.push(t);
  card.current_balance_cents = reported;
  log(`${card.name}: ${t.description} ${money(t.cents)} pushed with a balance of ${money(reported)} (4.70 off)`);
  await page.reload({ waitUntil: 'load' });
  const statuses = await checkFeedPage(page, card);
  const differences = statuses.filter((st) => st === 'difference').length;
  check(differences === 1, `${differences} statements of "${card.name}" show a difference, expected 1: ${statuses}`);
  check(statuses[statuses.length - 1] === 'difference', `the newest statement of "${card.name}" does not show the difference: ${statuses}`);
  const words = (await page.locator('section.statement .reconcile.difference').first().innerText()).trim();
  check(words === 'Difference of USD 4.70', `the broken statement says ${JSON.stringify(words)}, expected "Difference of USD 4.70"`);
}

async function checkFeedPage(page, account) {
  check((await page.locator('#no-transactions').count()) === 0, 'the feed page says no transactions were downloaded');
  const bankBalance = (await page.locator('#bank-balance').innerText()).trim();
  check(cents(bankBalance) === account.current_balance_cents, `bank balance ${bankBalance}, expected ${money(account.current_balance_cents)}`);
  const lastSynced = (await page.locator('#last-synced').innerText()).trim();
  check(/\d{4}-\d{2}-\d{2}/.test(lastSynced), `last synced is ${JSON.stringify(lastSynced)}, expected a date`);

  // Statements are listed newest first; each one's rows run oldest to newest.
  const statements = (
    await page.locator('section.statement').evaluateAll((ss) =>
      ss.map((s) => ({
        title: s.querySelector('h2').textContent.trim(),
        opening: s.querySelector('.balances .opening')?.textContent.trim(),
        computed: s.querySelector('.balances .computed')?.textContent.trim(),
        closing: s.querySelector('.balances .closing')?.textContent.trim() ?? null,
        status: s.querySelector('.reconcile')?.dataset.reconcile,
        words: s.querySelector('.reconcile')?.textContent.trim(),
        rows: [...s.querySelectorAll('table.transactions tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())),
      })),
    )
  ).reverse(); // oldest first
  check(statements.length >= 1, 'the feed page has no statement');
  const rows = statements.flatMap((st) => st.rows);
  check(rows.length === account.transactions.length, `${rows.length} transactions on the feed page, expected ${account.transactions.length}`);

  for (const t of account.transactions) {
    const row = rows.find((r) => r[1] === t.description);
    check(row, `transaction "${t.description}" is not on the feed page`);
    check(row[3] === money(t.cents), `"${t.description}": amount ${row[3]}, expected ${money(t.cents)}`);
    check(row[2] === (t.payee ?? ''), `"${t.description}": payee ${JSON.stringify(row[2])}, expected ${JSON.stringify(t.payee ?? '')}`);
    const date = t.date ?? postedAt(t.days, ...t.at).slice(0, 10);
    check(row[0] === date, `"${t.description}": date ${row[0]}, expected ${date}`);
  }

  // Each statement: a period by posting day, its balances with their currency, the running
  // balance from its opening, opening plus lines against the bank's closing (ties out or the
  // difference), and the next one opening where the bank closed it.
  const usd = (text, what) => {
    check(text && text.startsWith('USD '), `${what} is ${JSON.stringify(text)}, expected USD and an amount`);
    return cents(text.slice(4));
  };
  let opening = account.opening_cents;
  const statuses = [];
  for (const st of statements) {
    check(/^Statement for \d{4}-\d{2}-\d{2}/.test(st.title), `a statement is titled ${JSON.stringify(st.title)}, expected its posting day`);
    const day = st.title.slice('Statement for '.length, 'Statement for '.length + 10);
    check(st.rows.every((r) => r[0] === day), `"${st.title}" holds lines of other days`);
    check(usd(st.opening, 'an opening balance') === opening, `"${st.title}" opens at ${st.opening}, expected USD ${money(opening)}`);
    let running = opening;
    for (const r of st.rows) {
      running += cents(r[3]);
      check(cents(r[4]) === running, `running balance after "${r[1]}" is ${r[4]}, expected ${money(running)}`);
    }
    check(usd(st.computed, 'opening plus lines') === running, `"${st.title}": opening plus lines is ${st.computed}, expected USD ${money(running)}`);
    if (st.closing === null) {
      check(st.status === 'not_reported', `"${st.title}" has no closing from the bank but says ${st.status}`);
      opening = running;
    } else {
      const closing = usd(st.closing, 'a closing balance');
      const expected = closing === running ? ['ties_out', 'Ties out'] : ['difference', `Difference of USD ${money(closing - running)}`];
      check(st.status === expected[0] && st.words === expected[1], `"${st.title}" says ${JSON.stringify(st.words)} (${st.status}), expected ${JSON.stringify(expected[1])}`);
      opening = closing;
    }
    statuses.push(st.status);
  }
  check(opening === account.current_balance_cents, `the newest statement closes at ${money(opening)}, expected the bank's ${money(account.current_balance_cents)}`);
  // Every day was sent with its balance: none lacks the bank's figure.
  check(statuses.every((st) => st !== 'not_reported'), `a statement has no closing balance from the bank: ${statuses}`);
  log(`feed page: ${rows.length} transactions in ${statements.length} statements (${statuses.join(', ')}), ${money(account.opening_cents)} → ${money(opening)}, bank balance ${bankBalance}, last synced ${lastSynced}`);
  return statuses;
}

// ---------------------------------------------------------------- main

run({ name: 'the browser test', overallMs: OVERALL_MS, pass: 'the QuickBooks sandbox link flow works in chromium' }, async (ctx) => {
  const work = workDir('bankfeeds-e2e-');
  const dbUrl = `sqlite://${join(work, 'e2e.db')}`;
  // The hub under test serves the sandboxes and the demo bank, behind the sandbox password.
  const hub = await startHub(work, dbUrl, { BANKFEEDS_SANDBOX_ENABLED: 'true', BANKFEEDS_SANDBOX_PASSWORD: SANDBOX_PASSWORD });
  ctx.procs.push(hub);
  const base = hub.base;

  const { org, token } = await setUpFi(base, dbUrl);

  ctx.browser = await launchBrowser();
  const page = await newPage(ctx.browser);
  ctx.page = page;

  // Every response: no Cross-Origin-Opener-Policy, and no page body holding the OTP or the
  // connection's token. Every request stays on the hub. No script error or console error.
  const problems = [];
  const bodies = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(`${base}/`)) problems.push(`a request left the hub: ${req.method()} ${req.url()}`);
  });
  page.on('response', (res) => {
    bodies.push(
      (async () => {
        const h = await res.allHeaders();
        const what = `${res.status()} ${new URL(res.url()).pathname}`;
        if ('cross-origin-opener-policy' in h) problems.push(`${what} sends Cross-Origin-Opener-Policy: ${h['cross-origin-opener-policy']}`);
        if (res.status() >= 300 && res.status() < 400) return; // redirects have no body to read
        const body = await res.text().catch(() => '');
        if (body.includes('bfotp_')) problems.push(`${what}: the page holds an OTP (bfotp_…)`);
        if (body.includes(token)) problems.push(`${what}: the page holds the connection's access token`);
        if (res.status() >= 400 && !expectedErrors.has(what)) problems.push(`${what}: error page`);
      })(),
    );
  });
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The hub serves no favicon; the browser's own request for one is not the page's doing.
    const path = new URL(m.location().url || page.url()).pathname;
    if (path === '/favicon.ico') return;
    // The refused sign-in the walk provokes on purpose.
    if (expectedErrors.has(`401 ${path}`) && m.text().includes('401')) return;
    problems.push(`console error on ${page.url()}: ${m.text()} ${m.location().url ?? ''}`.trimEnd());
  });

  await walkLinkFlow(page, base);
  await breakTheCard(page, base, org, token);

  // The rendered HTML too (the DOM as the browser ended up with it).
  const html = await page.content();
  check(!html.includes('bfotp_') && !html.includes(token), 'the feed page holds an OTP or the access token');
  await Promise.all(bodies);
  check(problems.length === 0, `problems seen while browsing:\n      ${problems.join('\n      ')}`);
  log(`${bodies.length} responses checked: no COOP header, no OTP or token in any page, no request off the hub`);

  if (screenshotTo) {
    mkdirSync(dirname(screenshotTo), { recursive: true });
    await page.screenshot({ path: screenshotTo, fullPage: true });
    log(`screenshot: ${screenshotTo}`);
  }
});
