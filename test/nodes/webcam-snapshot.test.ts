// The webcam node in the real Node-RED runtime against the simulator: snapshots, streams, the 609
// cool-down and the failures a user can meet. Time is the simulator's manual clock, shared with the node.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { MjpegParser, type OctoEverywhereError } from '../../src/client';
import { createClock, startSimulator, type ManagedClock, type Simulator } from '../../src/simulator';
import { type SimulatedPrinter, startPrinter } from '../../src/simulator/printers';
import type { AppConnectionCredentials, AppConnectionNode } from '../../src/nodes/shared/types';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { SECRETS, secretsIn } from '../helpers/secrets';
import { appConnectionCredentials, sharedConnectionCredentials } from '../helpers/simulator';

const TYPE = 'octoeverywhere-webcam-snapshot';
// Node-RED's own Catch and Complete nodes: what a user's flow sees of errors and finished messages.
const modules = [
  nodeModule('octoeverywhere-app-connection'),
  nodeModule(TYPE),
  coreNode('common/25-catch.js') as unknown,
  coreNode('common/24-complete.js') as unknown,
] as Parameters<typeof helper.load>[0];
const COOLDOWN_STATUS = 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:status.cooldown';
const FRAME_MS = 100;

type Msg = Record<string, unknown> & { _msgid?: string };
interface NodeLike {
  receive(msg: Msg): void;
  on(event: string, fn: (arg: never) => void): void;
}

/** A short wait for I/O (bytes crossing the loopback sockets), never for simulated time. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('node: octoeverywhere-webcam-snapshot', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let outputs: Msg[];
  let caught: Msg[];
  let completed: Msg[];
  let statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  /** The streams the node opened, each with the frames a tap on its bytes saw. */
  let streams: Array<{ stream: Readable; frames: Buffer[] }>;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'moonraker', name: 'Voron' },
        { kind: 'octoprint', name: 'NoCam' },
      ],
      startPrinter: (o) =>
        startPrinter({
          ...o,
          webcamFrameIntervalMs: FRAME_MS,
          webcams:
            o.name === 'NoCam'
              ? []
              : [
                  { name: 'Nozzle Cam', flipV: true, rotation: 90 },
                  { name: 'Bed Cam', flipH: true },
                ],
        }),
    });
    outputs = [];
    caught = [];
    completed = [];
    statuses = [];
    streams = [];
  });

  afterEach(async () => {
    const logged = JSON.stringify((helper.log()?.args ?? []) as unknown[]);
    assert.deepEqual(secretsIn(logged + JSON.stringify(caught) + JSON.stringify(statuses)), [], 'no credential in logs, errors or statuses');
    await helper.unload();
    helper.settings({});
    await sim.close();
    clock.dispose();
  });

  const appConnection = (printer = 0): AppConnectionCredentials => appConnectionCredentials(sim, printer);

  /** Bearer only: the wrong-credentials (606) case replaces just the token. */
  function sharedConnection(printer = 0): AppConnectionCredentials {
    const { url, authBearerToken } = sharedConnectionCredentials(sim, printer);
    return { url, authBearerToken };
  }

  /** Loads config + webcam node + output/Catch/Complete collectors; returns the webcam node. */
  async function load(
    props: Record<string, unknown> = {},
    credentials: AppConnectionCredentials = appConnection(),
    settings: Record<string, unknown> = {},
  ): Promise<NodeLike> {
    // The node's clock hook and settings.js values; the helper's typings know only Node-RED's own settings.
    helper.settings({ octoeverywhereClock: clock, ...settings } as Parameters<typeof helper.settings>[0]);
    const at = { z: 'f1', x: 100, y: 100 };
    // Flow nodes need a tab and a position, or the runtime takes them for config nodes.
    const flow: Array<{ id: string; type: string; [key: string]: unknown }> = [
      { id: 'f1', type: 'tab' },
      { id: 'c1', type: 'octoeverywhere-app-connection', name: 'printer', serviceUrl: sim.serviceUrl },
      { id: 'w1', ...at, type: TYPE, connection: 'c1', wires: [['out']], ...props },
      { id: 'out', ...at, type: 'helper' },
      { id: 'catch', ...at, type: 'catch', scope: ['w1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper' },
      { id: 'complete', ...at, type: 'complete', scope: ['w1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper' },
    ];
    await helper.load(modules, flow, { c1: credentials });
    (helper.getNode('out') as unknown as NodeLike).on('input', (msg: never) => outputs.push(msg));
    (helper.getNode('caught') as unknown as NodeLike).on('input', (msg: never) => caught.push(msg));
    (helper.getNode('completed') as unknown as NodeLike).on('input', (msg: never) => completed.push(msg));
    const node = helper.getNode('w1') as unknown as NodeLike;
    node.on('call:status', (call: never) => statuses.push((call as { args: [{ fill?: string; shape?: string; text?: string }] }).args[0]));
    tapStreams();
    return node;
  }

  /** Watches the bytes of every stream the node opens (a second parser on the same chunks), to pace the test by frames. */
  function tapStreams(): void {
    const commands = (helper.getNode('c1') as unknown as AppConnectionNode).client().commands;
    const open = commands.stream.bind(commands);
    commands.stream = async (...args) => {
      const response = await open(...args);
      const entry = { stream: response.stream, frames: [] as Buffer[] };
      const parser = new MjpegParser({ boundary: response.boundary });
      response.stream.on('data', (chunk: Buffer) => parser.push(chunk, (f) => entry.frames.push(f.data)));
      streams.push(entry);
      return response;
    };
  }

  /** Sends one message and waits until it produced an output or an error. */
  async function run(node: NodeLike, msg: Msg): Promise<{ out?: Msg; error?: Msg['error'] & { code: string; message: string } }> {
    const before = { out: outputs.length, caught: caught.length };
    node.receive(msg);
    await waitFor('an output or an error', () => outputs.length > before.out || caught.length > before.caught);
    await settle();
    return { out: outputs[before.out], error: caught[before.caught]?.error as { code: string; message: string } | undefined };
  }

  /** Advances simulated time one frame at a time, waiting each time until the tap has seen the frame. */
  async function frames(count: number, stream = streams[streams.length - 1]): Promise<void> {
    for (let i = 0; i < count; i++) {
      const seen = stream.frames.length;
      await clock.advance(FRAME_MS);
      await waitFor('a frame', () => stream.frames.length > seen || stream.stream.destroyed);
      await settle();
      await settle();
    }
  }

  function isJpeg(value: unknown): boolean {
    return Buffer.isBuffer(value) && value[0] === 0xff && value[1] === 0xd8 && value[value.length - 2] === 0xff && value[value.length - 1] === 0xd9;
  }

  function assertClosed(entry: { stream: Readable }): void {
    assert.equal(entry.stream.destroyed, true, 'the stream was destroyed');
    assert.equal((entry.stream as IncomingMessage).socket?.destroyed ?? true, true, "the stream's socket was closed");
  }

  describe('snapshot', () => {
    it("sends the default webcam's JPEG with its name, index, transform and content type, keeping the message", async () => {
      const node = await load();
      const { out } = await run(node, { topic: 'cam', payload: 'go' });
      assert.ok(out);
      assert.ok(isJpeg(out.payload), 'payload is a JPEG Buffer');
      assert.equal(out.contentType, 'image/jpeg');
      assert.equal(out.topic, 'cam');
      assert.deepEqual(out.webcam, { name: 'Nozzle Cam', index: 0, transform: { flipH: false, flipV: true, rotation: 90, raw: 'flipv rotate=90' } });
      assert.equal(statuses.at(-1)?.fill, 'green');
    });

    it('chooses the webcam by msg.webcam index or name, by the node setting, or by a msg.webcam it sent before', async () => {
      const node = await load({ webcam: 'Bed Cam' });
      const bed = { name: 'Bed Cam', index: 1, transform: { flipH: true, flipV: false, rotation: 0, raw: 'fliph' } };
      assert.deepEqual((await run(node, {})).out?.webcam, bed, 'node setting');
      assert.equal(((await run(node, { webcam: 0 })).out?.webcam as { name: string }).name, 'Nozzle Cam', 'msg index overrides');
      assert.equal(((await run(node, { webcam: '0' })).out?.webcam as { index: number }).index, 0, 'index as a string');
      assert.equal(((await run(node, { webcam: '  nozzle CAM ' })).out?.webcam as { index: number }).index, 0, 'name, any case');
      assert.deepEqual((await run(node, { webcam: bed })).out?.webcam, bed, 'a msg.webcam from this node');
      assert.deepEqual((await run(node, { webcam: '' })).out?.webcam, bed, 'empty: the node setting');
    });

    it('refuses an unknown webcam with OE_UNKNOWN_WEBCAM and a msg.webcam of the wrong type with OE_INVALID_ARGUMENT', async () => {
      const node = await load();
      for (const webcam of ['Chamber Cam', 2, '7']) {
        const { out, error } = await run(node, { webcam });
        assert.equal(out, undefined);
        assert.equal(error?.code, 'OE_UNKNOWN_WEBCAM', String(webcam));
      }
      for (const webcam of [true, -1, 1.5, 65, [], { foo: 1 }, 'bad\u0001name']) {
        const { error } = await run(node, { webcam });
        assert.equal(error?.code, 'OE_INVALID_ARGUMENT', JSON.stringify(webcam));
      }
      assert.equal(outputs.length, 0);
    });

    it('says "this printer has no webcam" (OE_754) for a printer without one', async () => {
      const node = await load({}, appConnection(1));
      const { error } = await run(node, {});
      assert.equal(error?.code, 'OE_754');
      assert.match(error?.message ?? '', /errors\.no-webcam$/, 'the plain "this printer has no webcam" message');
    });

    it('starts a cool-down on 609: later messages fail fast without asking the service, until it is over', async () => {
      const node = await load({}, appConnection(), { octoeverywhereWebcamCooldown: 30_000 });
      sim.webcamViewLimit.maxViews = 2;
      assert.ok((await run(node, {})).out);
      assert.ok((await run(node, {})).out);
      const shown = statuses.length;
      const refused = await run(node, {});
      assert.equal(refused.error?.code, 'OE_609');
      await settle();
      assert.deepEqual(statuses.at(-1), { fill: 'yellow', shape: 'ring', text: COOLDOWN_STATUS });
      assert.deepEqual(
        statuses.slice(shown).filter((st) => st.fill === 'red'),
        [],
        'a cool-down is not shown as a fault first',
      );

      // The service would answer again now: only the cool-down stops the request.
      sim.webcamViewLimit.maxViews = 1000;
      await clock.advance(29_000);
      const fast = await run(node, {});
      assert.equal(fast.error?.code, 'OE_609');
      await settle();
      assert.equal(statuses.at(-1)?.text, COOLDOWN_STATUS);

      await clock.advance(1_000);
      assert.deepEqual(statuses.at(-1), {}, 'the cool-down status clears when it ends');
      assert.ok((await run(node, {})).out, 'works again after the cool-down');
    });

    it('cools down by 60 s unless configured', async () => {
      const node = await load();
      sim.webcamViewLimit.maxViews = 0;
      assert.equal((await run(node, {})).error?.code, 'OE_609');
      sim.webcamViewLimit.maxViews = 1000;
      await clock.advance(59_000);
      assert.equal((await run(node, {})).error?.code, 'OE_609');
      await clock.advance(1_000);
      assert.ok((await run(node, {})).out);
    });

    it('reports relay failures with their codes: 601 printer offline, 606 wrong credentials, network drops', async () => {
      let node = await load();
      sim.printers[0].online = false;
      assert.equal((await run(node, {})).error?.code, 'OE_601');
      sim.printers[0].online = true;
      sim.chaos.dropRate = 1;
      assert.match((await run(node, {})).error?.code ?? '', /^OE_(NETWORK|TIMEOUT)$/);
      sim.chaos.dropRate = 0;
      assert.ok((await run(node, {})).out, 'and recovers');

      await helper.unload();
      node = await load({}, { ...appConnection(), authBearerToken: SECRETS.authBearerToken });
      assert.equal((await run(node, {})).error?.code, 'OE_606');
    });

    it('ends every message exactly once when many arrive together', async () => {
      const node = await load();
      const msgs = Array.from({ length: 12 }, (_, i) => ({ _msgid: `m${i}`, webcam: i % 3 === 2 ? 'nope' : i % 2 }));
      for (const msg of msgs) node.receive(msg);
      await waitFor('every message', () => outputs.length + caught.length >= msgs.length);
      await settle();
      const ids = [...outputs.map((m) => m._msgid), ...caught.map((m) => m._msgid)].sort();
      assert.deepEqual(ids, msgs.map((m) => m._msgid).sort());
      assert.equal(caught.length, 4);
      assert.ok(caught.every((m) => (m.error as { code: string }).code === 'OE_UNKNOWN_WEBCAM'));
    });

    it('fails every message with OE_INVALID_CONFIG when its settings cannot be used', async () => {
      const node = await load({ maxFps: 'fast' });
      assert.equal((await run(node, {})).error?.code, 'OE_INVALID_CONFIG');
    });
  });

  describe('stream', () => {
    it('sends at most maxFps frames per second, dropping the rest, with numbered frames and the same msg.webcam', async () => {
      const node = await load({ mode: 'stream', maxFps: 2 });
      node.receive({ _msgid: 'start', topic: 'live' });
      await waitFor('the first frames', () => outputs.length === 1 && (streams[0]?.frames.length ?? 0) >= 2);
      await frames(30); // 3 s of a 10 fps camera
      assert.equal(streams[0].frames.length, 32, 'the camera sent 31 pictures, the first twice');
      assert.deepEqual(
        outputs.map((m) => m.frame),
        [1, 2, 3, 4, 5, 6, 7],
        'one frame every 500 ms',
      );
      for (const out of outputs) {
        assert.ok(isJpeg(out.payload));
        assert.equal(out.topic, 'live');
        assert.equal(out.contentType, 'image/jpeg');
        assert.deepEqual(out.webcam, { name: 'Nozzle Cam', index: 0, transform: { flipH: false, flipV: true, rotation: 90, raw: 'flipv rotate=90' } });
      }
      assert.equal(statuses.filter((s) => s.fill === 'green').length > 0, true);
      assert.equal(statuses.at(-1)?.text, 'status.streaming');
      node.receive({ stop: true });
      await waitFor('the end of the stream', () => completed.some((m) => m._msgid === 'start'));
      assertClosed(streams[0]);
    });

    it('sends the first frame once although the plugin sends it twice', async () => {
      const node = await load({ mode: 'stream', maxFps: 0 });
      node.receive({ _msgid: 'start' });
      await waitFor('the first two frames', () => (streams[0]?.frames.length ?? 0) >= 2);
      await settle();
      assert.ok(streams[0].frames[0].equals(streams[0].frames[1]), 'the plugin repeated the first frame');
      assert.equal(outputs.length, 1);
      await frames(2);
      assert.equal(outputs.length, 3);
      assert.ok(!(outputs[0].payload as Buffer).equals(outputs[1].payload as Buffer));
      node.receive({ stop: true });
      await waitFor('the end of the stream', () => completed.some((m) => m._msgid === 'start'));
    });

    it('stops after maxFrames frames: the start message completes and the stream is closed', async () => {
      const node = await load({ mode: 'stream', maxFps: 0, maxFrames: 3 });
      node.receive({ _msgid: 'start' });
      await waitFor('the first frame', () => outputs.length === 1);
      await frames(2);
      await waitFor('the end of the stream', () => completed.length === 1);
      assert.equal(completed[0]._msgid, 'start');
      assert.deepEqual(
        outputs.map((m) => m.frame),
        [1, 2, 3],
      );
      assertClosed(streams[0]);
      await clock.advance(FRAME_MS * 5);
      await settle();
      assert.equal(outputs.length, 3, 'nothing after the last frame');
      assert.deepEqual(statuses.at(-1), { fill: 'grey', shape: 'ring', text: 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:status.stopped' });
    });

    it('ends on msg.stop, refuses a second start while running, and can start again afterwards', async () => {
      const node = await load({ mode: 'stream', maxFps: 0 });
      node.receive({ _msgid: 'first' });
      await waitFor('the first frame', () => outputs.length === 1);
      const second = await run(node, { _msgid: 'second' });
      assert.equal(second.error?.code, 'OE_STREAM_RUNNING');
      await frames(1);
      assert.equal(outputs.length, 2, 'the running stream goes on');

      node.receive({ _msgid: 'stop', stop: true });
      await waitFor('both messages to complete', () => completed.length === 2);
      assert.deepEqual(completed.map((m) => m._msgid).sort(), ['first', 'stop']);
      assertClosed(streams[0]);
      const sent = outputs.length;
      await clock.advance(FRAME_MS * 3);
      await settle();
      assert.equal(outputs.length, sent);

      node.receive({ _msgid: 'again' });
      await waitFor('a frame of the new stream', () => outputs.length === sent + 1);
      assert.equal(outputs.at(-1)?.frame, 1);
      node.receive({ stop: true });
      await waitFor('the end', () => completed.length === 4);
    });

    it("ends at the account's single-stream limit, read from the Info API (App Connection)", async () => {
      sim.limits.MaxSingleWebcamStreamLengthSeconds = 1;
      const node = await load({ mode: 'stream', maxFps: 0 });
      node.receive({ _msgid: 'start' });
      await waitFor('the first frame', () => outputs.length === 1);
      await frames(10);
      await waitFor('the end of the stream', () => completed.length === 1);
      assert.ok(outputs.length >= 10 && outputs.length <= 11, `${outputs.length} frames in 1 s at 10 fps`);
      assertClosed(streams[0]);
      assert.equal(caught.length, 0);
    });

    it('ends when the relay ends the stream at the limit (Shared Connection, no Info API)', async () => {
      sim.limits.MaxSingleWebcamStreamLengthSeconds = 1;
      const node = await load({ mode: 'stream', maxFps: 0 }, sharedConnection());
      node.receive({ _msgid: 'start' });
      await waitFor('the first frame', () => outputs.length === 1);
      await frames(10);
      await waitFor('the end of the stream', () => completed.length === 1);
      assertClosed(streams[0]);
      assert.equal(caught.length, 0);
    });

    describe('a stream that stalls (issue 14 item 3)', () => {
      /** Starts a stream, lets two frames through, then freezes the camera with the connection left open. */
      async function stall(props: Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<void> {
        const node = await load({ mode: 'stream', ...props }, sharedConnection(), settings);
        node.receive({ _msgid: 'start', topic: 'live' });
        await waitFor('the first frame', () => outputs.length === 1);
        await frames(2);
        (sim.printers[0] as SimulatedPrinter).freezeWebcams(true);
      }
      /** Moves simulated time on and lets what it started finish. */
      async function advance(ms: number): Promise<void> {
        await clock.advance(ms);
        await settle();
        await settle();
      }
      function assertStalled(): void {
        assert.equal(caught.length, 1);
        const error = caught[0].error as { code: string; message: string };
        assert.equal(error.code, 'OE_STREAM_STALLED');
        assert.match(error.message, /errors\.stream-stalled/, 'the catalog message');
        assert.equal(caught[0]._msgid, 'start', 'the error comes with the message that started the stream');
        assert.equal(caught[0].topic, 'live');
        assert.deepEqual(statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_STREAM_STALLED' });
        assert.equal(completed.length, 0, 'a stalled stream is a failure, not a completion');
        assertClosed(streams[0]);
      }

      it('no frame for 10 s (the default floor) ends it with OE_STREAM_STALLED and a red ring, not a green "streaming" forever', async () => {
        await stall({ maxFps: 0 });
        await advance(9_900);
        assert.equal(caught.length, 0, 'within the stall time');
        assert.equal(statuses.at(-1)?.text, 'status.streaming');
        await advance(100);
        await waitFor('the stall error', () => caught.length === 1);
        assertStalled();
      });

      it('the default is 5 frame intervals at Max fps when that is longer (0.1 fps: 50 s)', async () => {
        await stall({ maxFps: 0.1 });
        await advance(49_000);
        assert.equal(caught.length, 0);
        await advance(1_000);
        await waitFor('the stall error', () => caught.length === 1);
        assertStalled();
      });

      it('octoeverywhereStreamStallTimeout (ms) in settings.js sets it', async () => {
        await stall({ maxFps: 0 }, { octoeverywhereStreamStallTimeout: 3_000 });
        await advance(2_900);
        assert.equal(caught.length, 0);
        await advance(100);
        await waitFor('the stall error', () => caught.length === 1);
        assertStalled();
      });
    });

    it('fails with the code on 609 (and cools down), 754 and relay errors', async () => {
      let node = await load({ mode: 'stream' });
      sim.webcamViewLimit.maxViews = 0;
      assert.equal((await run(node, {})).error?.code, 'OE_609');
      sim.webcamViewLimit.maxViews = 1000;
      assert.equal((await run(node, {})).error?.code, 'OE_609', 'cool-down');
      await helper.unload();

      node = await load({ mode: 'stream' }, appConnection(1));
      assert.equal((await run(node, {})).error?.code, 'OE_754');
      await helper.unload();

      node = await load({ mode: 'stream' }, { ...sharedConnection(), authBearerToken: SECRETS.authBearerToken });
      assert.equal((await run(node, {})).error?.code, 'OE_606');
      assert.equal(streams.length, 0, 'no stream was opened');
    });

    it('closes the stream and leaves no socket when the flow stops mid-stream', async () => {
      const node = await load({ mode: 'stream', maxFps: 0 });
      const client = (helper.getNode('c1') as unknown as AppConnectionNode).client();
      node.receive({});
      await waitFor('the first frame', () => outputs.length === 1);
      assert.ok(client.connection.socketCount() > 0);
      await helper.unload();
      assertClosed(streams[0]);
      // A destroyed socket leaves the pool on its 'close' event, a moment later.
      await waitFor('the pool to empty', () => client.connection.socketCount() === 0);
      assert.equal(caught.length, 0, 'stopping the flow is not an error');
    });
  });

  describe('editor webcam list (admin route)', () => {
    it('lists the webcams of a deployed connection without any secret', async () => {
      await load();
      const res = await helper.request().get('/octoeverywhere/webcams/c1').expect(200);
      assert.deepEqual(res.body, {
        defaultIndex: 0,
        webcams: [
          { index: 0, name: 'Nozzle Cam', enabled: true },
          { index: 1, name: 'Bed Cam', enabled: true },
        ],
      });
      assert.deepEqual(secretsIn(JSON.stringify(res.body)), []);
    });

    it('answers 404 OE_NOT_DEPLOYED for a connection that is not deployed (or is not a connection)', async () => {
      await load();
      for (const id of ['nope', 'w1']) {
        const res = await helper.request().get(`/octoeverywhere/webcams/${id}`).expect(404);
        assert.equal((res.body as { code: string }).code, 'OE_NOT_DEPLOYED');
      }
    });

    it('passes the failure code on without secrets', async () => {
      await load({}, { ...appConnection(), authBearerToken: SECRETS.authBearerToken });
      const res = await helper.request().get('/octoeverywhere/webcams/c1').expect(502);
      assert.equal((res.body as OctoEverywhereError).code, 'OE_606');
      assert.deepEqual(secretsIn(JSON.stringify(res.body)), []);
    });
  });
});
