// Drives a Capstan member's tus endpoint (/v1/uploads) with tus-js-client, the reference tus
// client, and checks what Capstan promises:
//   1. a multi-MiB upload interrupted in the middle of a PATCH resumes from where the member says
//      and ends as the artifact with the right digest, whose bytes the member serves;
//   2. two clients PATCHing one upload at the same offset at the same moment: exactly one wins,
//      the other is refused with 409 or 423, and the bytes are right.
// Usage: node tus-upload-test.mjs http://127.0.0.1:7480 [admin-token]
// Prints one line per check; exits 0 when both pass, 1 otherwise.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import * as tus from 'tus-js-client';

const base = process.argv[2];
const token = process.argv[3] || '';
if (!base) {
  console.error('usage: node tus-upload-test.mjs BASE_URL [ADMIN_TOKEN]');
  process.exit(2);
}
const endpoint = `${base}/v1/uploads`;
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const MiB = 1024 * 1024;

function digestOf(bytes) {
  return 'sha256:' + crypto.createHash('sha256').update(bytes).digest('hex');
}

function options(extra) {
  return { endpoint, headers, retryDelays: [100, 300, 1000, 2000], ...extra };
}

/** Resolves with the tus.Upload once it succeeded; rejects with its error. */
function run(upload) {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = () => resolve(upload);
    upload.options.onError = (error) => reject(error);
    upload.start();
  });
}

async function download(digest) {
  const response = await fetch(`${base}/v1/artifacts/${digest}`, { headers });
  assert.equal(response.status, 200, `GET /v1/artifacts/${digest}`);
  return Buffer.from(await response.arrayBuffer());
}

async function interruptedAndResumed() {
  const data = crypto.randomBytes(6 * MiB + 12345);
  const digest = digestOf(data);
  let aborted = false;
  let abortedAt = 0;
  const first = new tus.Upload(data, options({
    chunkSize: 2 * MiB,
    metadata: { filename: 'bundle.bin', filetype: 'application/octet-stream', digest },
  }));
  await new Promise((resolve, reject) => {
    first.options.onProgress = (sent) => {
      // Partway through: the upload stops with its PATCH in flight or just answered.
      if (!aborted && sent > 3 * MiB) {
        aborted = true;
        abortedAt = sent;
        first.abort().then(resolve, reject);
      }
    };
    first.options.onSuccess = () => reject(new Error('the upload finished before it could be interrupted'));
    first.options.onError = reject;
    first.start();
  });
  assert.ok(first.url, 'the interrupted upload has a URL to resume');

  const head = await fetch(first.url, { method: 'HEAD', headers: { ...headers, 'Tus-Resumable': '1.0.0' } });
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(offset >= 2 * MiB && offset <= abortedAt, `offset ${offset} after an abort at ${abortedAt}`);

  await run(new tus.Upload(data, options({ uploadUrl: first.url, chunkSize: 2 * MiB })));
  const finalHead = await fetch(first.url, { method: 'HEAD', headers: { ...headers, 'Tus-Resumable': '1.0.0' } });
  assert.equal(finalHead.headers.get('capstan-artifact-digest'), digest, 'the finished upload names its artifact');
  assert.ok((await download(digest)).equals(data), 'the artifact holds the uploaded bytes');
  console.log(`ok interrupted after ${abortedAt} bytes sent (offset ${offset} kept), resumed to ${digest}`);
}

async function twoConcurrentPatches() {
  const data = crypto.randomBytes(5 * MiB);
  const digest = digestOf(data);
  // Create the upload and send its first MiB.
  const starter = new tus.Upload(data, options({ chunkSize: MiB }));
  await new Promise((resolve, reject) => {
    starter.options.onChunkComplete = (chunk, accepted) => {
      if (accepted >= MiB && !starter.stopped) {
        starter.stopped = true;
        starter.abort().then(resolve, reject);
      }
    };
    starter.options.onError = reject;
    starter.start();
  });
  // Two clients resume it; neither sends its PATCH until both have asked HEAD for the offset.
  let waiting = 2;
  let release;
  const bothReady = new Promise((resolve) => { release = resolve; });
  const racer = () => new tus.Upload(data, options({
    uploadUrl: starter.url,
    retryDelays: null,
    onBeforeRequest: (req) => {
      if (req.getMethod() !== 'PATCH') {
        return undefined;
      }
      waiting -= 1;
      if (waiting === 0) {
        release();
      }
      return bothReady;
    },
  }));
  const results = await Promise.allSettled([run(racer()), run(racer())]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r) => r.status === 'rejected');
  assert.equal(won.length, 1, `one winner, got ${won.length}`);
  const status = lost[0].reason.originalResponse ? lost[0].reason.originalResponse.getStatus() : 0;
  assert.ok(status === 409 || status === 423, `the other is refused with 409 or 423, got ${status}: ${lost[0].reason}`);
  const head = await fetch(starter.url, { method: 'HEAD', headers: { ...headers, 'Tus-Resumable': '1.0.0' } });
  assert.equal(Number(head.headers.get('upload-offset')), data.length);
  assert.equal(head.headers.get('capstan-artifact-digest'), digest);
  assert.ok((await download(digest)).equals(data), 'the artifact holds the uploaded bytes');
  console.log(`ok two concurrent PATCHes: one won, the other got ${status}, ${digest} is whole`);
}

try {
  await interruptedAndResumed();
  await twoConcurrentPatches();
  console.log('tus-js-client: both checks passed');
  // Keep-alive sockets of the clients would hold the process open for minutes.
  process.exit(0);
} catch (error) {
  console.error(`FAILED: ${error.stack || error}`);
  process.exit(1);
}
