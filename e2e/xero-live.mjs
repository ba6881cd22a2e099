// Live Xero through the consent pages, against Prism as a mock Xero (issue 16's Done-when):
// every request the hub sends to Xero's Bank Feeds API must be valid against Xero's own OpenAPI
// document, and every statement must tie out.
//
//   node e2e/xero-live.mjs [path/to/bankfeeds]        (or BANKFEEDS_BIN=path/to/bankfeeds)
//
// It starts, each on a free loopback port:
//   - Prism (@stoplight/prism-cli, pinned in package.json) mocking
//     conformance/xero/xero-bankfeeds.openapi.yaml with --errors: a request that violates the
//     document is answered 422 with the violations (in its `sl-violations` header and its log);
//   - "Xero": one node server with a stand-in for Xero's identity server (/identity/connect/
//     authorize with an "Allow access" page, /identity/connect/token with PKCE and rotating
//     refresh tokens, /connections) and, at /bankfeeds.xro/1.0, a recording proxy in front of
//     Prism. The proxy records every request, passes it to Prism, and answers with Prism's
//     answer made to fit the call: Prism's canned examples name other feed connections and
//     account tokens, which the hub rightly ignores, so the proxy puts in the ids of this run
//     (a feed connection per accountToken asked for, a statement id per statement) and answers
//     `GET /Statements/{id}` DELIVERED (Xero's own example for it breaks its schema, so Prism
//     --errors answers 500; the request itself is still validated);
//   - the hub (`bankfeeds serve`) on a temporary SQLite database with a `secrets_key`, its
//     xero_identity_url, xero_connections_url and xero_api_url pointed at "Xero", and
//     live_poll_seconds and live_retry_base_seconds at 1 so the run takes seconds, not minutes.
// Then: an organisation (CLI) with XERO live (PUT …/connector), a XERO connection with a bank
// account and a card; Chromium opens the link_url, clicks "Connect to Xero", allows access at the
// identity stand-in, is sent back to the hub's callback, picks the organisation, the accounts and
// the start date. Both feeds must become `active`; the FI pushes two batches per account (with
// current_balance), and every transaction must reach Xero in exactly one statement answered
// DELIVERED. Last, the card account is deleted: its DeleteRequest must reach Xero too.
//
// Checks: Prism reported no request violation; every call carried the tenant and a live access
// token (the tokens expire within the run, so they are refreshed, the refresh tokens rotating);
// feed connections and statements carried an Idempotency-Key; a card's feed connection carries
// only its last four digits; each statement has 1..1000 lines in order, opens where the feed's
// last one closed (the first at the FI's opening balance), ties out (start + signed lines = end,
// exact decimals) and the last closes at the FI's current_balance.
//
// CHROMIUM (default /usr/bin/chromium), E2E_HEADED=1 to watch, E2E_VERBOSE=1 to print every
// request the hub sent to Xero. Exit code 0 when every check passed, 1 otherwise (with the page,
// the hub's, Prism's and the recording's tails). Writes nothing outside a temporary directory.

import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';

import {
  api,
  check,
  cli,
  freePort,
  launchBrowser,
  log,
  newPage,
  poll,
  Proc,
  repo,
  run,
  startHub,
  workDir,
} from './lib.mjs';

const OVERALL_MS = 240_000; // the whole run
const SPEC = join(repo, 'conformance/xero/xero-bankfeeds.openapi.yaml');
const PRISM = join(repo, 'e2e/node_modules/.bin/prism');
const API_BASE = '/bankfeeds.xro/1.0'; // as in Xero's servers URL
const APP = { client_id: 'E2E-XERO-APP', client_secret: 'e2e xero app secret' };
const TENANT = { id: randomUUID(), name: 'Acme Books Ltd' };
// The hub refreshes an access token a minute before it expires: at 60 s, before every call.
const ACCESS_SECONDS = 60;
const verbose = process.env.E2E_VERBOSE === '1';

// ---------------------------------------------------------------- exact money

// Amounts as the hub writes them (JSON numbers), kept as text so nothing goes through a float:
// every "amount": <number> is quoted before the body is parsed.
const quoteAmounts = (raw) => raw.replace(/("amount"\s*:\s*)(-?[0-9][0-9.eE+-]*)/g, '$1"$2"');
const SCALE = 4; // Xero's decimal(19,4)
function units(text) {
  const m = /^(\d+)(?:\.(\d{1,4}))?$/.exec(String(text));
  check(m, `amount ${JSON.stringify(text)} is not an unsigned decimal with at most ${SCALE} places`);
  return BigInt(m[1]) * 10n ** BigInt(SCALE) + BigInt((m[2] ?? '').padEnd(SCALE, '0'));
}
const signedUnits = (x, what) => {
  check(['CREDIT', 'DEBIT'].includes(x.creditDebitIndicator), `${what}: creditDebitIndicator ${x.creditDebitIndicator}`);
  const u = units(x.amount);
  return x.creditDebitIndicator === 'DEBIT' ? -u : u;
};
const fromCents = (c) => BigInt(c) * 100n;
const show = (u) => {
  const neg = u < 0n;
  const a = neg ? -u : u;
  return `${neg ? '-' : ''}${a / 10_000n}.${String(a % 10_000n).padStart(4, '0')}`;
};

// ---------------------------------------------------------------- the FI's data

const DAY = 86_400_000;
const at = (msAgo) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');
const decimal = (cents) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
const num = (cents) => Number(decimal(cents)); // a JSON number with ≤ 2 decimals

const checking = {
  internal_bank_account_id: 'CHK-0001',
  bank_account_type: 'bank',
  name: 'Business Checking',
  bank_account_number: '000123456789',
  opening_cents: 532_118,
  batches: [
    [
      ['CHK-T01', 12 * DAY, 1_450_000, 'Invoice 1042 paid', 'Northwind Traders'],
      ['CHK-T02', 10 * DAY, -325_000, 'Office rent', 'Harbor Properties LLC'],
      ['CHK-T03', 8 * DAY, -8_742, 'Internet service', 'Comcast Business'],
      ['CHK-T04', 6 * DAY, -21_599, 'Office supplies', 'Staples'],
      ['CHK-T05', 4 * DAY, 287_550, 'Invoice 1043 paid', 'Contoso Ltd', 'INV-1043'],
      ['CHK-T06', 2 * DAY, -1_250, 'Monthly service fee', null],
    ],
    [
      ['CHK-T07', 3_600_000, -4_999, 'Software subscription', 'Adobe'],
      ['CHK-T08', 1_800_000, 99_875, 'Stripe payout', 'Stripe'],
      ['CHK-T09', 600_000, -1, 'Rounding adjustment', null],
    ],
  ],
};
const card = {
  internal_bank_account_id: 'CARD-0001',
  bank_account_type: 'credit_card',
  name: 'Business Card',
  bank_account_number: '4111000011112222',
  opening_cents: -10_000,
  batches: [
    [
      ['CARD-T01', 5 * DAY, -12_480, 'Client lunch', 'The Capital Grille'],
      ['CARD-T02', 3 * DAY, -25_990, 'Flight SFO-SEA', 'Alaska Airlines'],
      ['CARD-T03', 1 * DAY, 10_000, 'Payment received', null],
    ],
    [['CARD-T04', 900_000, -4_500, 'Taxi to the airport', 'Yellow Cab', 'Trip 7731']],
  ],
};
const accounts = [checking, card];

// ---------------------------------------------------------------- "Xero": identity and the proxy

/// What the stand-in saw and said, for the checks at the end.
const xero = {
  hub: null, // the hub's base URL (its callback is checked)
  prism: null, // Prism's base URL
  codes: new Map(), // authorization code -> { challenge, redirect_uri }
  access: new Map(), // access token -> expiry (ms)
  refresh: null, // the one refresh token that works (they rotate)
  refreshes: 0,
  requests: [], // every Bank Feeds request: { method, path, headers, raw, body, prism, violations }
  feeds: new Map(), // feed connection id -> the item asked for
  statements: new Map(), // statement id -> { key, statement }
  statementKeys: new Map(), // Idempotency-Key -> statement id
  delivered: new Set(), // statement ids the hub asked about and was told DELIVERED
  problems: [], // what Xero would refuse, or the spec says otherwise
  exampleDefects: new Set(), // Prism's own examples against its schema (not the hub's doing)
};

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function answer(res, status, body, type = 'application/json') {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

const b64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function issueTokens() {
  const access = `xat_${randomBytes(16).toString('hex')}`;
  xero.access.set(access, Date.now() + ACCESS_SECONDS * 1000);
  xero.refresh = `xrt_${randomBytes(16).toString('hex')}`;
  return { access_token: access, refresh_token: xero.refresh, expires_in: ACCESS_SECONDS, token_type: 'Bearer', scope: 'offline_access bankfeeds' };
}

function bearerProblem(req) {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!m) return 'no bearer token';
  const expiry = xero.access.get(m[1]);
  if (expiry === undefined) return 'an access token Xero never issued';
  if (expiry < Date.now()) return 'an expired access token';
  return null;
}

async function identity(req, res, url) {
  if (req.method === 'GET' && url.pathname === '/identity/connect/authorize') {
    const q = url.searchParams;
    const wrong = [];
    if (q.get('response_type') !== 'code') wrong.push(`response_type ${q.get('response_type')}`);
    if (q.get('client_id') !== APP.client_id) wrong.push(`client_id ${q.get('client_id')}`);
    if (q.get('redirect_uri') !== `${xero.hub}/link/xero/live/callback`) wrong.push(`redirect_uri ${q.get('redirect_uri')}`);
    if (q.get('scope') !== 'offline_access bankfeeds') wrong.push(`scope ${q.get('scope')}`);
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) wrong.push('no S256 code challenge');
    if (!q.get('state')) wrong.push('no state');
    if (wrong.length) {
      xero.problems.push(`authorize: ${wrong.join(', ')}`);
      return answer(res, 400, `<p>invalid request: ${wrong.join(', ')}</p>`, 'text/html');
    }
    const code = `code_${randomBytes(12).toString('hex')}`;
    xero.codes.set(code, { challenge: q.get('code_challenge'), redirect_uri: q.get('redirect_uri') });
    const back = `${q.get('redirect_uri')}?code=${code}&state=${encodeURIComponent(q.get('state'))}&scope=${encodeURIComponent(q.get('scope'))}`;
    // Xero's consent screen, reduced to its button.
    return answer(
      res,
      200,
      `<!doctype html><title>Xero (stand-in)</title><h1>Allow access</h1><p>bankfeeds e2e wants access to <b>${TENANT.name}</b>: offline_access bankfeeds</p><a id="allow" href="${back.replace(/&/g, '&amp;')}">Allow access</a>`,
      'text/html; charset=utf-8',
    );
  }
  if (req.method === 'POST' && url.pathname === '/identity/connect/token') {
    const form = new URLSearchParams(await readBody(req));
    const basic = `Basic ${Buffer.from(`${APP.client_id}:${APP.client_secret}`).toString('base64')}`;
    if (req.headers.authorization !== basic) {
      xero.problems.push('token: the app credentials are not sent as HTTP Basic');
      return answer(res, 401, { error: 'invalid_client' });
    }
    if (form.get('grant_type') === 'authorization_code') {
      const issued = xero.codes.get(form.get('code'));
      xero.codes.delete(form.get('code'));
      const verifier = form.get('code_verifier') ?? '';
      if (!issued || issued.redirect_uri !== form.get('redirect_uri') || b64url(createHash('sha256').update(verifier).digest()) !== issued.challenge) {
        xero.problems.push('token: a code exchange Xero would refuse (unknown code, other redirect_uri or wrong PKCE verifier)');
        return answer(res, 400, { error: 'invalid_grant' });
      }
      return answer(res, 200, issueTokens());
    }
    if (form.get('grant_type') === 'refresh_token') {
      if (!xero.refresh || form.get('refresh_token') !== xero.refresh) {
        xero.problems.push('token: a refresh token already used (they rotate) or never issued');
        return answer(res, 400, { error: 'invalid_grant' });
      }
      xero.refreshes += 1;
      return answer(res, 200, issueTokens());
    }
    return answer(res, 400, { error: 'unsupported_grant_type' });
  }
  return answer(res, 404, { error: 'not_found' });
}

function connections(req, res) {
  const wrong = bearerProblem(req);
  if (wrong) {
    xero.problems.push(`GET /connections with ${wrong}`);
    return answer(res, 401, { title: 'Unauthorized', status: 401 });
  }
  return answer(res, 200, [
    { id: randomUUID(), tenantId: TENANT.id, tenantType: 'ORGANISATION', tenantName: TENANT.name, createdDateUtc: new Date().toISOString() },
  ]);
}

/// Passes a Bank Feeds request to Prism; its status, headers and body text.
async function toPrism(req, path, raw) {
  const headers = {};
  for (const h of ['authorization', 'xero-tenant-id', 'idempotency-key', 'content-type', 'accept']) {
    if (req.headers[h] !== undefined) headers[h] = req.headers[h];
  }
  const r = await fetch(`${xero.prism}${path}`, { method: req.method, headers, body: raw === '' ? undefined : raw });
  return { status: r.status, violations: JSON.parse(r.headers.get('sl-violations') ?? '[]'), text: await r.text() };
}

async function bankFeeds(req, res, url) {
  const raw = await readBody(req);
  const path = url.pathname.slice(API_BASE.length) + url.search;
  let body = null;
  if (raw !== '') {
    try {
      body = JSON.parse(quoteAmounts(raw));
    } catch {
      xero.problems.push(`${req.method} ${path}: a body that is not JSON`);
    }
  }
  const rec = { method: req.method, path, headers: { ...req.headers }, raw, body, at: Date.now(), answered: false };
  xero.requests.push(rec);
  res.once('finish', () => (rec.answered = true));
  const prism = await toPrism(req, path, raw);
  rec.prism = prism.status;
  rec.violations = prism.violations;
  for (const v of prism.violations) {
    if (v.location?.[0] === 'request') xero.problems.push(`Prism: ${req.method} ${path}: ${v.message} (${v.location.join('.')})`);
    else xero.exampleDefects.add(`${req.method} ${path.replace(/\/[0-9a-f-]{36}$/, '/{id}')}: ${v.message}`);
  }
  if (verbose) log(`xero ← ${req.method} ${path} → Prism ${prism.status}${raw ? ` ${raw.slice(0, 300)}` : ''}`);
  // Bearer and tenant: Prism checks they are there; the stand-in that they are right.
  const wrong = bearerProblem(req);
  if (wrong) {
    xero.problems.push(`${req.method} ${path} with ${wrong}`);
    return answer(res, 401, { type: 'invalid-application', title: 'Unauthorized', status: 401 }, 'application/problem+json');
  }
  if (req.headers['xero-tenant-id'] !== TENANT.id) xero.problems.push(`${req.method} ${path}: Xero-Tenant-Id ${req.headers['xero-tenant-id']}`);
  const requestViolated = prism.violations.some((v) => v.location?.[0] === 'request');
  if (requestViolated || (prism.status >= 400 && prism.status !== 500)) {
    // What Prism says of an invalid request goes back to the hub as it is (a 422: the hub
    // stops the feed and shows it; the test fails on the recorded problem anyway).
    if (!requestViolated) xero.problems.push(`Prism answered ${req.method} ${path} with ${prism.status}: ${prism.text.slice(0, 300)}`);
    res.writeHead(prism.status, { 'content-type': 'application/problem+json' });
    return res.end(prism.text);
  }
  return shape(req, res, path, body, prism, rec);
}

/// Prism's valid answer, fitted to this run's ids (see the top of the file).
function shape(req, res, path, body, prism, record) {
  const parsed = prism.status === 500 ? null : JSON.parse(quoteAmounts(prism.text));
  const key = req.headers['idempotency-key'];
  if (req.method === 'POST' && path === '/FeedConnections') {
    if (!key) xero.problems.push('POST /FeedConnections without an Idempotency-Key');
    const items = (body?.items ?? []).map((item) => {
      const id = randomUUID();
      xero.feeds.set(id, item);
      return { ...parsed.items[0], id, accountToken: item.accountToken, status: 'PENDING' };
    });
    return answer(res, 202, { items });
  }
  let m = /^\/FeedConnections\/([0-9a-f-]{36})$/.exec(path);
  if (req.method === 'GET' && m) {
    const item = xero.feeds.get(m[1]);
    if (!item) return answer(res, 404, { type: 'invalid-feed-connection', title: 'Not found', status: 404 }, 'application/problem+json');
    // Set up: Xero's example has no status, as an active feed connection answers.
    const { accountToken, accountNumber, accountName, accountType, currency } = item;
    return answer(res, 200, { ...parsed, id: m[1], accountToken, accountNumber, accountName, accountType, currency, country: 'US' });
  }
  if (req.method === 'POST' && path === '/FeedConnections/DeleteRequests') {
    if (!key) xero.problems.push('POST /FeedConnections/DeleteRequests without an Idempotency-Key');
    const items = (body?.items ?? []).map((item) => {
      const id = item.id ?? [...xero.feeds].find(([, f]) => f.accountToken === item.accountToken)?.[0];
      return id ? { id, status: 'PENDING' } : { accountToken: item.accountToken, status: 'REJECTED', error: { type: 'feed-not-found-or-already-deleted', title: 'Not found', status: 404 } };
    });
    return answer(res, 202, { items });
  }
  if (req.method === 'POST' && path === '/Statements') {
    if (!key) xero.problems.push('POST /Statements without an Idempotency-Key');
    const statement = body?.items?.[0];
    if (xero.statementKeys.has(key)) {
      // A retry after a lost answer: Xero answers duplicate-statement.
      const id = xero.statementKeys.get(key);
      return answer(res, 409, { items: [{ id, feedConnectionId: statement?.feedConnectionId, status: 'REJECTED', errors: [{ type: 'duplicate-statement', title: 'Duplicate Statement Received', status: 409 }] }] }, 'application/problem+json');
    }
    const id = randomUUID();
    xero.statementKeys.set(key, id);
    xero.statements.set(id, { key, statement, raw: record });
    return answer(res, 202, { items: [{ ...parsed.items[0], id, feedConnectionId: statement?.feedConnectionId, status: 'PENDING' }] });
  }
  m = /^\/Statements\/([0-9a-f-]{36})$/.exec(path);
  if (req.method === 'GET' && m) {
    const got = xero.statements.get(m[1]);
    if (!got) return answer(res, 404, { type: 'statement-not-found', title: 'Not found', status: 404 }, 'application/problem+json');
    xero.delivered.add(m[1]);
    const s = got.statement;
    return answer(
      res,
      200,
      quoteless({ id: m[1], feedConnectionId: s.feedConnectionId, status: 'DELIVERED', startDate: s.startDate, endDate: s.endDate, startBalance: s.startBalance, endBalance: s.endBalance, statementLineCount: s.statementLines.length }),
    );
  }
  xero.problems.push(`the hub called ${req.method} ${path}, which the test does not expect`);
  return answer(res, 404, { type: 'invalid-request', title: 'Not expected', status: 404 }, 'application/problem+json');
}
// Back to JSON numbers for the amounts quoted on the way in.
const quoteless = (obj) => JSON.stringify(obj).replace(/("amount":)"([0-9.]+)"/g, '$1$2');

async function startXero() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://xero.invalid');
    const handle = url.pathname.startsWith('/identity/')
      ? identity(req, res, url)
      : url.pathname === '/connections'
        ? Promise.resolve(connections(req, res))
        : url.pathname.startsWith(`${API_BASE}/`)
          ? bankFeeds(req, res, url)
          : Promise.resolve(answer(res, 404, { error: 'not_found' }));
    handle.catch((e) => {
      xero.problems.push(`the stand-in failed on ${req.method} ${url.pathname}: ${e.stack ?? e}`);
      if (!res.headersSent) answer(res, 500, { type: 'internal-error', title: 'stand-in failure', status: 500 }, 'application/problem+json');
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  server.unref();
  return `http://127.0.0.1:${server.address().port}`;
}

async function startPrism(work) {
  const port = await freePort();
  const prism = new Proc('prism', PRISM, ['mock', '-h', '127.0.0.1', '-p', String(port), '--errors', SPEC], {
    env: process.env,
    logPath: join(work, 'prism.log'),
  });
  xero.prism = `http://127.0.0.1:${port}`;
  await poll('Prism is not listening', () => prism.tail(200).some((l) => l.includes('Prism is listening')) || (!prism.running && check(false, `Prism exited: ${prism.tail().join('\n')}`)), 30_000);
  log(`prism: ${prism.tail(200).find((l) => l.includes('listening')).replace(/^.*\] › /, '')} (${SPEC.slice(repo.length + 1)}, --errors)`);
  return prism;
}

// ---------------------------------------------------------------- the FI's side

async function setUpFi(base, dbUrl) {
  const org = await cli(['org', 'create', '--name', 'First Live Bank'], dbUrl);
  check(org.client_id && org.client_secret, `org create printed no credential: ${JSON.stringify(org)}`);
  await api(base, org, 'PUT', '/versioned/bank_feeds/configs/XERO', { display_name: 'First Live Bank', login_url: `${base}/unused-login`, country_code: 'US' });
  const live = await api(base, org, 'PUT', '/versioned/bank_feeds/configs/XERO/connector', { mode: 'live', ...APP });
  check(!JSON.stringify(live).includes(APP.client_secret), 'the connector answer shows the client secret');
  const created = await api(base, org, 'POST', '/versioned/connections/create', { platform: 'XERO', name: 'Acme Ltd' });
  const token = created.connection.access_token;
  const q = `access_token=${encodeURIComponent(token)}`;
  for (const a of accounts) {
    const got = await api(base, org, 'POST', `/versioned/accounting/bank_feeds/accounts?${q}`, {
      bank_feed_account: {
        internal_bank_account_id: a.internal_bank_account_id,
        bank_account_type: a.bank_account_type,
        currency_code: 'USD',
        name: a.name,
        bank_account_number: a.bank_account_number,
        current_balance: num(a.opening_cents),
      },
    });
    a.id = got.bank_feed_account.id;
  }
  log(`org ${org.client_id}: XERO live, connection ${created.connection.id} with ${accounts.map((a) => a.id).join(', ')}`);
  return { org, q, linkUrl: created.connection.link_url };
}

async function push(base, org, q, a, n) {
  const txs = a.batches[n];
  a.pushed = [...(a.pushed ?? []), ...txs.map((t) => t[0])];
  a.balance_cents = (a.balance_cents ?? a.opening_cents) + txs.reduce((s, t) => s + t[2], 0);
  await api(base, org, 'POST', `/versioned/accounting/bank_feeds/transactions?${q}`, {
    bank_feed_transactions: {
      bank_feed_account_id: a.id,
      current_balance: num(a.balance_cents),
      transactions: txs.map(([id, ago, cents, description, payee, memo]) => ({
        transaction_id: id,
        posted_at: at(ago),
        amount: num(cents),
        description,
        ...(payee ? { payee } : {}),
        ...(memo ? { memo } : {}),
      })),
    },
  });
  log(`${a.name}: batch ${n + 1} pushed (${txs.length} transactions, current_balance ${decimal(a.balance_cents)})`);
}

/// The transaction ids Xero holds for `a` in statements it answered DELIVERED, in order.
function deliveredIds(a) {
  const fcs = new Set([...xero.feeds].filter(([, f]) => f.accountToken === a.id).map(([id]) => id));
  return [...xero.statements]
    .filter(([id, s]) => xero.delivered.has(id) && fcs.has(s.statement?.feedConnectionId))
    .flatMap(([, s]) => s.statement.statementLines.map((l) => l.transactionId));
}

// ---------------------------------------------------------------- the browser

async function linkThroughConsent(page, base, xeroBase, linkUrl) {
  const clickTo = async (locator, where, what) => {
    await Promise.all([page.waitForURL((u) => where(new URL(u)), { waitUntil: 'load' }), locator.click()]);
    log(`${what} → ${new URL(page.url()).origin === base ? '' : new URL(page.url()).origin}${new URL(page.url()).pathname}`);
  };
  await page.goto(linkUrl.startsWith('http') ? linkUrl : `${base}${linkUrl}`, { waitUntil: 'load' });
  check((await page.locator('h1').innerText()).includes('Xero'), 'the link page does not offer Xero');
  await clickTo(page.locator('#connect-to-xero'), (u) => u.origin === xeroBase && u.pathname === '/identity/connect/authorize', 'Connect to Xero');
  await clickTo(page.locator('#allow'), (u) => u.origin === base && !u.pathname.startsWith('/link/xero/live/callback'), 'Allow access (identity stand-in), back through the callback');
  check((await page.locator('h1').innerText()).includes('Choose the Xero organisation'), `not the organisation choice: ${await page.locator('h1').innerText()}`);
  check((await page.locator('main, body').first().innerText()).includes(TENANT.name), `the organisation "${TENANT.name}" is not offered`);
  await clickTo(page.locator('#choose-organisation'), (u) => u.origin === base, `choose "${TENANT.name}"`);
  for (const a of accounts) {
    const box = page.locator(`input[type="checkbox"][name="account"][value="${a.id}"]`);
    check((await box.count()) === 1 && (await box.isChecked()), `account ${a.name} is not offered ticked`);
  }
  // From 20 days back: every pushed transaction is after it.
  const start = new Date(Date.now() - 20 * DAY).toISOString().slice(0, 10);
  await page.locator('input[name="start_date"]').fill(start);
  await clickTo(page.locator('#connect-accounts'), (u) => u.origin === base, `connect both accounts from ${start}`);
  check((await page.locator('#xero-connected').count()) === 1, 'no "Connected to Xero" page');
  check((await page.locator('#xero-connected').innerText()).includes(TENANT.name), 'the done page does not name the organisation');
}

// ---------------------------------------------------------------- the checks

function checkFeedConnections() {
  const posts = xero.requests.filter((r) => r.method === 'POST' && r.path === '/FeedConnections');
  check(posts.length >= 1, 'the hub never asked Xero for a feed connection');
  for (const a of accounts) {
    const items = [...xero.feeds.values()].filter((f) => f.accountToken === a.id);
    check(items.length >= 1, `no feed connection was asked for ${a.name} (accountToken ${a.id})`);
    for (const f of items) {
      check(f.currency === 'USD', `${a.name}: feed connection currency ${f.currency}`);
      check(typeof f.accountName === 'string' && f.accountName.length <= 30, `${a.name}: accountName ${JSON.stringify(f.accountName)}`);
      if (a.bank_account_type === 'credit_card') {
        check(f.accountType === 'CREDITCARD', `${a.name}: accountType ${f.accountType}`);
        check(f.accountNumber === a.bank_account_number.slice(-4), `${a.name}: a card's feed connection sends ${JSON.stringify(f.accountNumber)}, not only its last four digits`);
      } else {
        check(f.accountType === 'BANK', `${a.name}: accountType ${f.accountType}`);
        check(f.accountNumber === a.bank_account_number && f.accountNumber.length <= 40, `${a.name}: accountNumber ${JSON.stringify(f.accountNumber)}`);
      }
    }
  }
  log(`feed connections: ${posts.length} POST /FeedConnections for ${xero.feeds.size} accounts (the card as ••${card.bank_account_number.slice(-4)})`);
}

function checkStatements() {
  let statements = 0;
  for (const a of accounts) {
    const fcs = new Set([...xero.feeds].filter(([, f]) => f.accountToken === a.id).map(([id]) => id));
    const mine = [...xero.statements.values()].filter((s) => fcs.has(s.statement?.feedConnectionId));
    let closing = fromCents(a.opening_cents);
    const ids = [];
    for (const { key, statement: s, raw } of mine) {
      const what = `${a.name}: statement ${key}`;
      check(raw.body.items.length === 1, `${what}: ${raw.body.items.length} statements in one request`);
      check(Buffer.byteLength(raw.raw) < 3_000_000, `${what}: ${Buffer.byteLength(raw.raw)} bytes, Xero takes under 3 MB`);
      const lines = s.statementLines ?? [];
      check(lines.length >= 1 && lines.length <= 1000, `${what}: ${lines.length} lines (1..1000)`);
      const start = signedUnits(s.startBalance, `${what} startBalance`);
      const end = signedUnits(s.endBalance, `${what} endBalance`);
      check(start === closing, `${what} opens at ${show(start)}, the feed's last statement closed at ${show(closing)}`);
      const sum = lines.reduce((acc, l, i) => acc + signedUnits(l, `${what} line ${i}`), 0n);
      check(start + sum === end, `${what} does not tie out: ${show(start)} + ${show(sum)} ≠ ${show(end)}`);
      for (let i = 0; i < lines.length; i++) {
        const d = lines[i].postedDate;
        check(d >= s.startDate && d <= s.endDate, `${what}: line ${lines[i].transactionId} posted ${d}, outside ${s.startDate}..${s.endDate}`);
        if (i > 0) check(d >= lines[i - 1].postedDate, `${what}: lines out of order at ${lines[i].transactionId}`);
      }
      for (const l of lines) {
        const t = a.batches.flat().find((x) => x[0] === l.transactionId);
        check(t, `${what}: line ${l.transactionId} was never pushed`);
        const [, , cents, description, payee, memo] = t;
        check(signedUnits(l, what) === fromCents(cents), `${what}: line ${l.transactionId} is ${l.creditDebitIndicator} ${l.amount}, pushed ${decimal(cents)}`);
        check(l.description === description && (l.payeeName ?? null) === payee && (l.reference ?? null) === (memo ?? null), `${what}: line ${l.transactionId} reads ${JSON.stringify(l)}`);
      }
      ids.push(...lines.map((l) => l.transactionId));
      closing = end;
      statements += 1;
    }
    check(JSON.stringify(ids) === JSON.stringify(a.pushed), `${a.name}: Xero received ${JSON.stringify(ids)}, the FI pushed ${JSON.stringify(a.pushed)}`);
    check(closing === fromCents(a.balance_cents), `${a.name}: the last statement closes at ${show(closing)}, the FI's current_balance is ${decimal(a.balance_cents)}`);
    log(`${a.name}: ${mine.length} statements, ${ids.length} lines, ${show(fromCents(a.opening_cents))} → ${show(closing)}, every one ties out`);
  }
  return statements;
}

// ---------------------------------------------------------------- main

let prismProc = null;

run({ name: 'the live Xero browser test', overallMs: OVERALL_MS, pass: 'live Xero through the consent pages: every request valid against Xero\'s OpenAPI (Prism), every statement ties out' }, async (ctx) => {
  const work = workDir('bankfeeds-e2e-xero-');
  const dbUrl = `sqlite://${join(work, 'e2e.db')}`;
  prismProc = await startPrism(work);
  ctx.procs.push(prismProc);
  const xeroBase = await startXero();
  const secretsKey = await cli(['secrets-key']);
  check(typeof secretsKey === 'string' && secretsKey.length >= 40, 'bankfeeds secrets-key printed no key');
  const hub = await startHub(work, dbUrl, {
    BANKFEEDS_SECRETS_KEY: secretsKey,
    BANKFEEDS_XERO_IDENTITY_URL: `${xeroBase}/identity`,
    BANKFEEDS_XERO_API_URL: `${xeroBase}${API_BASE}`,
    BANKFEEDS_XERO_CONNECTIONS_URL: xeroBase,
    // Fast: a PENDING statement is asked about again after a second, not 30.
    BANKFEEDS_LIVE_POLL_SECONDS: '1',
    BANKFEEDS_LIVE_RETRY_BASE_SECONDS: '1',
  });
  ctx.procs.push(hub);
  const base = hub.base;
  xero.hub = base;
  log(`xero: identity stand-in and recording proxy on ${xeroBase}`);
  const { org, q, linkUrl } = await setUpFi(base, dbUrl);

  ctx.browser = await launchBrowser();
  const page = await newPage(ctx.browser);
  ctx.page = page;
  const problems = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(`${base}/`) && !u.startsWith(`${xeroBase}/identity/`)) problems.push(`a request went neither to the hub nor to Xero's identity server: ${req.method()} ${u}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') problems.push(`${res.status()} ${res.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  await linkThroughConsent(page, base, xeroBase, linkUrl);
  check(problems.length === 0, `problems seen while browsing:\n      ${problems.join('\n      ')}`);
  ctx.page = null; // the rest is between the hub and Xero
  try {
    await deliver(base, org, q);
  } catch (e) {
    console.error(`\n  the last requests the hub sent to Xero (Prism's status):`);
    for (const r of xero.requests.slice(-10)) console.error(`    | ${r.method} ${r.path} → ${r.prism ?? '…'} ${r.raw.slice(0, 400)}`);
    throw e;
  }
});

/// After the consent: the feeds set up, two batches per account delivered, the card unlinked, and
/// the verdict on everything Xero received.
async function deliver(base, org, q) {
  // Xero sets the feed connections up: both feeds become active.
  const feedOf = async (a) => (await api(base, org, 'GET', `/versioned/accounting/bank_feeds/accounts/${a.id}?${q}`)).bank_feed_account.live_feed;
  const settled = async () => {
    const feeds = await Promise.all(accounts.map(feedOf));
    check(xero.problems.length === 0, `Xero saw a problem: ${xero.problems[0]}`);
    const bad = feeds.find((f) => f && !['pending', 'active'].includes(f.feed_status));
    check(!bad, `a live feed is ${JSON.stringify(bad)}`);
    return feeds.every((f) => f?.feed_status === 'active') && feeds;
  };
  await poll('the live feeds did not become active', settled, 60_000, 500);
  log(`live feeds active: ${accounts.map((a) => a.name).join(', ')}`);

  // Two batches per account; each must reach Xero in full before the next.
  for (const n of [0, 1]) {
    for (const a of accounts) await push(base, org, q, a, n);
    await poll(
      `batch ${n + 1} did not reach Xero in statements answered DELIVERED`,
      async () => {
        check(xero.problems.length === 0, `Xero saw a problem: ${xero.problems[0]}`);
        const feeds = await Promise.all(accounts.map(feedOf));
        check(feeds.every((f) => f?.feed_status === 'active'), `a live feed left active: ${JSON.stringify(feeds)}`);
        return accounts.every((a) => deliveredIds(a).length === a.pushed.length);
      },
      120_000,
      500,
    );
    log(`batch ${n + 1}: every transaction in a statement Xero answered DELIVERED`);
  }

  // Unlinking: deleting the card account sends its DeleteRequest.
  await api(base, org, 'DELETE', `/versioned/accounting/bank_feeds/accounts/${card.id}?${q}`);
  await poll('the card\'s DeleteRequest did not reach Xero', () => xero.requests.some((r) => r.path === '/FeedConnections/DeleteRequests' && r.answered), 60_000, 500);
  const del = xero.requests.find((r) => r.path === '/FeedConnections/DeleteRequests');
  check(del.body?.items?.some((i) => i.accountToken === card.id || xero.feeds.get(i.id)?.accountToken === card.id), `the DeleteRequest does not name the card: ${del.raw}`);
  log('card account deleted: its DeleteRequest reached Xero');

  // The verdict.
  check(xero.problems.length === 0, `what Xero would refuse:\n      ${xero.problems.join('\n      ')}`);
  const prismLog = prismProc.tail(1_000_000);
  const violations = prismLog.filter((l) => /Violation: request|Request did not pass the validation/.test(l));
  check(violations.length === 0, `Prism logged request violations:\n      ${violations.join('\n      ')}`);
  const byOp = {};
  for (const r of xero.requests) {
    check(r.prism >= 200 && r.prism < 300 || r.prism === 500, `Prism answered ${r.method} ${r.path} with ${r.prism}`);
    const op = `${r.method} ${r.path.replace(/\/[0-9a-f-]{36}$/, '/{id}')}`;
    byOp[op] = (byOp[op] ?? 0) + 1;
  }
  checkFeedConnections();
  const statements = checkStatements();
  check(xero.refreshes >= 1, 'the access token was never refreshed (it expires within the run)');
  log(`${xero.requests.length} requests to the Bank Feeds API, all valid against Xero's OpenAPI (Prism): ${Object.entries(byOp).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  log(`${statements} statements, every one DELIVERED and tying out; ${xero.refreshes} token refreshes, each with the latest refresh token`);
  for (const d of xero.exampleDefects) log(`(Xero's own example, not the hub: ${d})`);
}
