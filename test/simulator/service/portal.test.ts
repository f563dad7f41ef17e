import assert from 'node:assert/strict';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../../src/simulator/index';
import { bearer, type Reply, request } from './helpers';
import { standInFactory } from './stand-in-printer';

const unescape = (s: string): string => s.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));

/** The value of the named form field on a page (for radios: the checked one). */
function field(html: string, name: string): string {
  const match =
    new RegExp(`<input type="radio"[^>]*name="${name}" value="([^"]*)" checked>`).exec(html) ?? new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(match, `no ${name} field on the page`);
  return unescape(match[1]);
}

/** A browser-less user walking the portal: follows redirects, keeps the session cookie, posts forms. */
class PortalUser {
  cookie = '';
  constructor(private readonly sim: Simulator) {}

  async get(pathOrUrl: string): Promise<Reply> {
    const reply = await request(new URL(pathOrUrl, this.sim.serviceUrl).toString(), { headers: this.cookie ? { cookie: this.cookie } : {} });
    this.keepCookie(reply);
    return reply;
  }

  async post(path: string, form: Record<string, string>): Promise<Reply> {
    const reply = await request(`${this.sim.serviceUrl}${path}`, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie ? { cookie: this.cookie } : {}) },
    });
    this.keepCookie(reply);
    return reply;
  }

  /** Start → login → choose printer → Allow/Cancel; returns the final redirect's Location. */
  async connect(query: string, action: 'allow' | 'cancel' = 'allow', pick?: (html: string) => string): Promise<string> {
    let page = await this.get(`/appportal/v1/?${query}`);
    assert.equal(page.status, 200);
    if (page.text.includes('id="login-form"')) {
      const login = await this.post('/appportal/v1/login', { q: field(page.text, 'q'), email: 'demo@example.com', password: 'pw' });
      assert.equal(login.status, 303);
      page = await this.get(String(login.headers.location));
    }
    assert.ok(page.text.includes('id="continue"'), 'on the choose-printer step');
    const printer = pick ? pick(page.text) : field(page.text, 'printer');
    const authorize = await this.get(`/appportal/v1/authorize?${new URLSearchParams({ q: field(page.text, 'q'), printer })}`);
    assert.ok(authorize.text.includes('id="allow"') && authorize.text.includes('id="cancel"'));
    const done = await this.post('/appportal/v1/authorize', { q: field(authorize.text, 'q'), printer: field(authorize.text, 'printer'), action });
    assert.equal(done.status, 302);
    return String(done.headers.location);
  }

  private keepCookie(reply: Reply): void {
    const set = reply.headers['set-cookie'];
    if (set) this.cookie = set[0].split(';')[0];
  }
}

describe('simulator service: portal', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let user: PortalUser;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      startPrinter: standInFactory,
      printers: [
        { kind: 'moonraker', name: 'Voron 2.4' },
        { kind: 'octoprint', name: 'Prusa MK3S' },
        { kind: 'bambu', name: 'X1C', linked: false },
      ],
    });
    user = new PortalUser(sim);
  });
  afterEach(async () => {
    await sim.close();
    clock.dispose();
  });

  it('walks login → choose → allow and returns the completion keys as production sends them', async () => {
    const voron = sim.printers[0];
    const location = await user.connect(`AppId=devtest&PrinterId=${voron.printerId}&returnUrl=${encodeURIComponent('https://example.org/done')}`);
    assert.ok(location.startsWith('https://example.org/done?success=true&id='));
    const keys = new URL(location).searchParams;
    assert.deepEqual(
      [...keys.keys()],
      [
        'success',
        'id',
        'url',
        'appApiToken',
        'printername',
        'userPrinterAccessUrl',
        'printerLastKnownLocalIp',
        'authbasichttpuser',
        'authbasichttppassword',
        'authBearerToken',
      ],
    );
    assert.equal(keys.get('printername'), 'Voron 2.4');
    assert.ok(location.includes('printername=Voron%202.4'), 'spaces as %20, like production');
    assert.match(keys.get('url') ?? '', /^http:\/\/app-[a-z0-9]{32}\.localhost:\d+$/);
    // The keys work on the relay and the App APIs.
    assert.equal((await request(`${keys.get('url')}/echo`, { headers: { authorization: bearer(keys.get('authBearerToken') ?? '') } })).status, 200);
    assert.equal((await request(`${sim.serviceUrl}/api/appconnection/info`, { headers: { apptoken: keys.get('appApiToken') ?? '' } })).status, 200);
  });

  it('preselects the printer given by printerId', async () => {
    const prusa = sim.printers[1];
    const location = await user.connect(`appid=devtest&printerid=${prusa.printerId}`);
    assert.equal(new URL(location).searchParams.get('printername'), 'Prusa MK3S');
  });

  it('appends to custom-scheme return URLs and ones that already have a query or fragment', async () => {
    const custom = await user.connect(`appid=devtest&returnUrl=${encodeURIComponent('nodered://connect')}`);
    assert.match(custom, /^nodered:\/\/connect\?success=true&id=/);
    const withQuery = await user.connect(`appid=devtest&returnUrl=${encodeURIComponent('https://example.org/cb?state=abc#frag')}`);
    assert.match(withQuery, /^https:\/\/example\.org\/cb\?state=abc&success=true&.*#frag$/);
  });

  it('adds octoPrintApiKey only for an OctoPrint printer when octoPrintApiKeyAppName is given', async () => {
    const prusa = sim.printers[1];
    const withKey = new URL(await user.connect(`appid=devtest&printerId=${prusa.printerId}&OctoPrintApiKeyAppName=Node-RED`)).searchParams;
    assert.ok(withKey.get('octoPrintApiKey'));
    const moonraker = new URL(await user.connect(`appid=devtest&printerId=${sim.printers[0].printerId}&OctoPrintApiKeyAppName=Node-RED`)).searchParams;
    assert.equal(moonraker.has('octoPrintApiKey'), false);
    const none = new URL(await user.connect(`appid=devtest&printerId=${prusa.printerId}`)).searchParams;
    assert.equal(none.has('octoPrintApiKey'), false);
    assert.equal((await user.get('/appportal/v1/?appid=devtest&octoPrintApiKeyAppName=X')).status, 400, 'name under 2 chars');
  });

  it('returns success=false when the user cancels, and the default completion page says so', async () => {
    const location = await user.connect('appid=devtest', 'cancel');
    assert.equal(location, `${sim.serviceUrl}/appportal/v1/complete?success=false`);
    const page = await user.get(location);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('No connection was made'));
  });

  it('refuses a start without appid', async () => {
    assert.equal((await user.get('/appportal/v1/?returnUrl=https%3A%2F%2Fexample.org')).status, 400);
  });

  it('offers to add a printer that is not on the account yet', async () => {
    const x1c = sim.printers[2];
    const query = `appid=devtest&printerId=${x1c.printerId}`;
    const login = await user.get(`/appportal/v1/?${query}`);
    await user.post('/appportal/v1/login', { q: field(login.text, 'q'), email: 'demo@example.com', password: 'pw' });
    const add = await user.get(`/appportal/v1/?${query}`);
    assert.ok(add.text.includes('id="add-printer"'));
    assert.equal((await user.post('/appportal/v1/addprinter', { q: field(add.text, 'q') })).status, 303);
    const location = await user.connect(query);
    assert.equal(new URL(location).searchParams.get('printername'), 'X1C');
    const unknown = await user.get(`/appportal/v1/?appid=devtest&printerId=${'Z'.repeat(60)}`);
    assert.ok(unknown.text.includes('id="waiting"'));
  });

  it('asks for Supporter Perks first when the account has none, and serves nosupporterperks', async () => {
    sim.setSupporter(false);
    const perks = await user.get('/appportal/v1/nosupporterperks?appid=devtest');
    assert.equal(perks.status, 200);
    assert.ok(perks.text.includes('devtest') && perks.text.includes('id="become-supporter"'));
    const login = await user.get('/appportal/v1/?appid=devtest');
    await user.post('/appportal/v1/login', { q: field(login.text, 'q'), email: 'demo@example.com', password: 'pw' });
    const step = await user.get('/appportal/v1/?appid=devtest');
    assert.ok(step.text.includes('id="become-supporter"'));
    assert.equal((await user.post('/appportal/v1/supporter', { q: field(step.text, 'q') })).status, 303);
    assert.match(await user.connect('appid=devtest'), /success=true/);
  });
});
