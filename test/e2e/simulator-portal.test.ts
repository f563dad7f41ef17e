// The simulator's App Connection Portal driven by a real browser (issue 4): from the portal URL through
// sign-in, printer choice and Allow to the completion URL, whose keys must be what production sends.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildPortalUrl, parseCompletion } from '../../src/client';
import { type Simulator, startSimulator } from '../../src/simulator';
import { watchSecret } from '../helpers/secrets';
import { artifactPath, browserAvailable, completePortal, launchBrowser, type LocalBrowser } from './support';

describe('e2e: the simulator portal in Chromium', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let browser: LocalBrowser;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    sim = await startSimulator();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
  });
  beforeEach(async () => {
    page = await browser.context.newPage();
  });
  afterEach(async () => {
    await page?.close();
  });

  it('goes from the portal URL to a completion URL with the production keys', async () => {
    const portalUrl = buildPortalUrl({ serviceUrl: sim.serviceUrl, appId: 'devtest', octoPrintApiKeyAppName: 'Node-RED' });
    await page.goto(portalUrl);
    await completePortal(page, 'Prusa MK3S');
    await page.waitForSelector('#done');
    assert.match((await page.textContent('#done')) ?? '', /connected/);
    await page.screenshot({ path: artifactPath('simulator-portal-complete.png') });

    const finished = new URL(page.url());
    assert.equal(`${finished.origin}${finished.pathname}`, `${sim.serviceUrl}/appportal/v1/complete`);
    const keys = [...finished.searchParams.keys()];
    for (const key of [
      'success',
      'id',
      'url',
      'appApiToken',
      'printername',
      'userPrinterAccessUrl',
      'authbasichttpuser',
      'authbasichttppassword',
      'authBearerToken',
      'octoPrintApiKey',
    ]) {
      assert.ok(keys.includes(key), `completion key ${key}`);
    }
    assert.equal(finished.searchParams.get('success'), 'true');
    const result = parseCompletion(page.url());
    for (const s of [result.appApiToken, result.authBasicHttpPassword, result.authBearerToken, result.octoPrintApiKey]) watchSecret(s);
    assert.equal(result.printerName, 'Prusa MK3S');
    assert.match(result.url, /^http:\/\/app-[a-z0-9]{32}\.localhost:\d+$/);
    assert.ok(result.authBasicHttpUser && result.authBasicHttpPassword && result.authBearerToken, 'Basic and Bearer together, as production');
    assert.deepEqual(browser.blocked, [], 'the browser asked nothing of the internet');
  });

  it('sends success=false when the user cancels', async () => {
    await page.goto(buildPortalUrl({ serviceUrl: sim.serviceUrl, appId: 'devtest' }));
    await completePortal(page, 'Voron 2.4', 'cancel');
    await page.waitForSelector('#done');
    assert.equal(new URL(page.url()).searchParams.get('success'), 'false');
    assert.throws(() => parseCompletion(page.url()), { code: 'OE_PORTAL_FAILED' });
  });
});
