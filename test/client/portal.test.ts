import assert from 'node:assert/strict';
import { OctoEverywhereError, buildPortalUrl, connectionHostKind, parseCompletion } from '../../src/client';
import samples from '../fixtures/production-samples.json';

describe('client: App Connection Portal', () => {
  describe('buildPortalUrl', () => {
    it('builds the portal URL with encoded parameters', () => {
      const url = new URL(
        buildPortalUrl({
          appId: 'nodered',
          returnUrl: 'http://127.0.0.1:1880/octoeverywhere/portal/callback?state=a b',
          printerId: 'Q3H8K2M9P4R7T1W6Y0Z5A8C3E6G9J2L5N8Q1S4U7X0B3D6F9H2K5M8P1R4T7',
          octoPrintApiKeyAppName: 'Node-RED',
          appLogoUrl: 'https://x.example/logo.png',
        }),
      );
      assert.equal(url.origin + url.pathname, 'https://octoeverywhere.com/appportal/v1/');
      assert.equal(url.searchParams.get('appid'), 'nodered');
      assert.equal(url.searchParams.get('returnUrl'), 'http://127.0.0.1:1880/octoeverywhere/portal/callback?state=a b');
      assert.equal(url.searchParams.get('octoPrintApiKeyAppName'), 'Node-RED');
      assert.equal(url.searchParams.get('printerId')?.length, 60);
    });
    it('defaults to the devtest App ID and validates the key app name (2–60 chars)', () => {
      assert.equal(new URL(buildPortalUrl()).searchParams.get('appid'), 'devtest');
      assert.throws(
        () => buildPortalUrl({ octoPrintApiKeyAppName: 'x' }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_ARGUMENT',
      );
      assert.throws(
        () => buildPortalUrl({ octoPrintApiKeyAppName: 'x'.repeat(61) }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_ARGUMENT',
      );
      assert.throws(
        () => buildPortalUrl({ returnUrl: 'not a url' }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_ARGUMENT',
      );
      assert.throws(
        () => buildPortalUrl({ serviceUrl: 'http://octoeverywhere.com' }),
        (e: OctoEverywhereError) => e.code === 'OE_INSECURE_URL',
      );
    });
  });

  describe('parseCompletion', () => {
    it('reads the production completion (lowercase Basic keys plus Bearer)', () => {
      const r = parseCompletion(samples.completion.success_production);
      assert.equal(r.id, 'kq2b9x7d');
      assert.equal(r.url, 'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com');
      assert.equal(r.authBasicHttpUser, 'u8Jd2kLq');
      assert.equal(r.authBasicHttpPassword, 'Pq7sX2vN9mB4cW1z');
      assert.equal(r.authBearerToken, 'Hh3Kk8Rr2Tt6Yy1Uu5Ii9Oo4Pp7Ll0Mm');
      assert.equal(r.printerName, 'Voron 2.4');
      assert.equal(r.printerLastKnownLocalIp, '192.168.1.77');
      assert.equal(r.userPrinterAccessUrl, 'https://octoeverywhere.com/view/Voron%202.4');
    });
    it('reads the documented camelCase keys and the OctoPrint key', () => {
      const r = parseCompletion(samples.completion.success_documented_camelcase);
      assert.equal(r.authBasicHttpUser, 'u8Jd2kLq');
      assert.equal(r.octoPrintApiKey, '0A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D');
      assert.equal(r.authBearerToken, undefined);
    });
    it('reads a bearer-only completion on a custom scheme, and a bare query string', () => {
      assert.equal(parseCompletion(samples.completion.bearer_only).authBearerToken, 'Hh3Kk8Rr2Tt6Yy1Uu5Ii9Oo4Pp7Ll0Mm');
      const query = samples.completion.bearer_only.split('?')[1];
      assert.equal(parseCompletion(query).id, 'kq2b9x7d');
      assert.equal(parseCompletion(`?${query}`).id, 'kq2b9x7d');
    });
    it('reads keys case-insensitively and lower-cases the host', () => {
      const r = parseCompletion('x://y?SUCCESS=true&ID=1&URL=https%3A%2F%2FAPP-ABC.OctoEverywhere.com%2F&AuthBearerToken=t1');
      assert.equal(r.url, 'https://app-abc.octoeverywhere.com');
      assert.equal(r.authBearerToken, 't1');
    });
    it('treats anything but success=true as a failure', () => {
      for (const v of ['false', 'True', '1', '']) {
        assert.throws(
          () => parseCompletion(`x://y?success=${v}&id=1&url=https%3A%2F%2Fapp-a.octoeverywhere.com&authBearerToken=t`),
          (e: OctoEverywhereError) => e.code === 'OE_PORTAL_FAILED',
        );
      }
      assert.throws(
        () => parseCompletion(samples.completion.failure),
        (e: OctoEverywhereError) => e.code === 'OE_PORTAL_FAILED',
      );
    });
    it('names what is missing without repeating any value', () => {
      assert.throws(
        () => parseCompletion('x://y?success=true&url=https%3A%2F%2Fapp-a.octoeverywhere.com&authbasichttpuser=u'),
        (e: OctoEverywhereError) => {
          assert.equal(e.code, 'OE_COMPLETION_INVALID');
          assert.match(e.message, /id, credentials/);
          return true;
        },
      );
      assert.throws(
        () => parseCompletion('x://y?success=true&id=1&url=http%3A%2F%2Fevil.example&authBearerToken=secret-token-value'),
        (e: OctoEverywhereError) => {
          assert.match(e.message, /https/);
          assert.ok(!e.message.includes('secret-token-value'));
          return true;
        },
      );
      for (const junk of ['', '   ', 'https://octoeverywhere.com/appportal/v1/complete', 'hello world', '%%%']) {
        assert.throws(
          () => parseCompletion(junk),
          (e: OctoEverywhereError) => e.code === 'OE_COMPLETION_INVALID',
          junk,
        );
      }
    });
  });

  describe('connectionHostKind (issue 14.6: where a completion may point the printer)', () => {
    it('knows OctoEverywhere App and Shared Connection hosts, any case', () => {
      assert.equal(connectionHostKind('https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com'), 'app');
      assert.equal(connectionHostKind('https://APP-FWDUVGAJPBCZ1E7MWM0IVSCPO4EBTG6O.OctoEverywhere.com/'), 'app');
      assert.equal(connectionHostKind('https://shared-abc123def456.octoeverywhere.com'), 'shared');
    });
    it("allows this machine (the simulator's app-….localhost hosts, loopback addresses)", () => {
      assert.equal(connectionHostKind('http://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.localhost:41234'), 'loopback');
      assert.equal(connectionHostKind('http://127.0.0.1:8080'), 'loopback');
      assert.equal(connectionHostKind('http://[::1]:8080'), 'loopback');
    });
    it('refuses any other host, look-alikes, plain http, other ports and other schemes', () => {
      for (const url of [
        'https://attacker.example',
        'https://octoeverywhere.com',
        'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com.attacker.example',
        'https://app-short.octoeverywhere.com',
        'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.co',
        'https://x.app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com',
        'http://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com',
        'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com:8443',
        'https://shared-.octoeverywhere.com',
        'ftp://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com',
        'not a url',
        '',
      ]) {
        assert.equal(connectionHostKind(url), undefined, url);
      }
    });
  });
});
