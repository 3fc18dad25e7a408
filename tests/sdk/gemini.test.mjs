// The official @google/genai SDK (Node 22) against brownout's Gemini dialect: generateContent,
// the SSE stream, tools, the model list, and every fault in Gemini's own form. The SDK does not
// retry unless httpOptions.retryOptions asks it to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError } from '@google/genai';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => assert.equal(await fleet.stop(), 0));

const model = 'gemini-2.5-flash';
const contents = 'Is the API up?';
const client = (fault, extra = {}, provider = 'gemini') => new GoogleGenAI({
  apiKey: 'k',
  httpOptions: { baseUrl: fleet.urls[provider], headers: fault ? { 'x-brownout-fault': fault } : {}, ...extra },
});
const attemptsSince = async (before, provider = 'gemini') =>
  (await fleet.journal(provider)).slice(before).map((a) => a.status);

async function streamed(ai, config = {}) {
  let text = '';
  let last;
  for await (const chunk of await ai.models.generateContentStream({ model, contents, config })) {
    text += chunk.text ?? '';
    last = chunk;
  }
  return { text, last };
}

test('gemini: generateContent is verified, with its finish reason and usage', async () => {
  const res = await client().models.generateContent({ model, contents });
  assert.match(res.text, TAG);
  assert.equal(res.candidates[0].finishReason, 'STOP');
  assert.ok(res.usageMetadata.candidatesTokenCount > 0);
  assert.equal(res.usageMetadata.totalTokenCount,
    res.usageMetadata.promptTokenCount + res.usageMetadata.candidatesTokenCount);
  assert.equal(res.modelVersion, model);
});

test('gemini: the SSE stream (alt=sse) ends with the chunk that has the finish reason', async () => {
  const { text, last } = await streamed(client());
  assert.match(text, TAG);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  const journal = await fleet.journal('gemini');
  assert.match(journal.at(-1).path, /:streamGenerateContent$/);
  assert.equal(journal.at(-1).stream, true);
});

test('gemini: a function declaration with mode ANY comes back as a functionCall', async () => {
  const res = await client().models.generateContent({ model, contents, config: {
    tools: [{ functionDeclarations: [{ name: 'lookup_order', parameters: { type: 'OBJECT', properties: { order_id: { type: 'STRING' } } } }] }],
    toolConfig: { functionCallingConfig: { mode: 'ANY' } },
  } });
  const call = res.functionCalls[0];
  assert.equal(call.name, 'lookup_order');
  assert.match(call.args.order_id, /^bo-[0-9a-f]{8}$/);
});

test('gemini: the model list, and an image as inline data', async () => {
  const names = [];
  for await (const m of await client().models.list()) names.push(m.name);
  assert.deepEqual(names, ['models/gemini-2.5-flash']);
  const res = await client().models.generateContent({ model, contents: [{ role: 'user', parts: [
    { text: 'What is in the picture?' }, { inlineData: { mimeType: 'image/png', data: 'aGVsbG8=' } }] }] });
  assert.match(res.text, TAG);
});

// HTTP errors: an ApiError with the status, its message the error's JSON.
const errors = [
  { name: 'an overload: 503 UNAVAILABLE', fault: 'busy', status: 503, body: /"status":"UNAVAILABLE".*|The model is overloaded\. Please try again later\./ },
  { name: 'a 500 INTERNAL', fault: 'busy;status=500', status: 500, body: /"status":"INTERNAL"/ },
  { name: 'a lost feature: 400 INVALID_ARGUMENT', fault: 'feature_loss;features=["vision"]', status: 400,
    body: /Image input modality is not enabled/, image: true },
];
for (const e of errors) {
  test(`gemini fault: ${e.name} is an ApiError, not retried`, async () => {
    const before = (await fleet.journal('gemini')).length;
    const request = e.image
      ? [{ role: 'user', parts: [{ text: 'x' }, { fileData: { mimeType: 'image/png', fileUri: 'https://images.brownout.test/a.png' } }] }]
      : contents;
    await assert.rejects(client(e.fault).models.generateContent({ model, contents: request }), (err) => {
      assert.ok(err instanceof ApiError, `got ${err.constructor.name}`);
      assert.equal(err.status, e.status);
      assert.match(err.message, e.body);
      return true;
    });
    assert.deepEqual(await attemptsSince(before), [e.status]);
  });
}

test('gemini fault: a 429 says its wait in RetryInfo, not in a Retry-After header', async () => {
  await assert.rejects(client('busy;status=429;retry_after=30s').models.generateContent({ model, contents }), (err) => {
    assert.equal(err.status, 429);
    const body = JSON.parse(err.message);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    const retry = body.error.details.find((d) => d['@type'].endsWith('google.rpc.RetryInfo'));
    assert.equal(retry.retryDelay, '0.500s', '30 scenario seconds at time scale 60');
    return true;
  });
});

test('gemini fault: the provider\'s own quota is a 429 with QuotaFailure and RetryInfo', async () => {
  const ai = client(undefined, {}, 'limited-gemini');
  await ai.models.generateContent({ model, contents });
  await assert.rejects(ai.models.generateContent({ model, contents }), (err) => {
    assert.equal(err.status, 429);
    const details = JSON.parse(err.message).error.details.map((d) => d['@type'].split('.').at(-1));
    assert.deepEqual(details, ['Help', 'QuotaFailure', 'RetryInfo']);
    return true;
  });
});

test('gemini fault: an unknown model is a 404 NOT_FOUND', async () => {
  await assert.rejects(client().models.generateContent({ model: 'gemini-0.1-nope', contents }), (err) => {
    assert.equal(err.status, 404);
    assert.match(err.message, /models\/gemini-0\.1-nope is not found for API version v1beta/);
    return true;
  });
});

test('gemini: with retryOptions the SDK retries a 503 (it does not by default)', async () => {
  const before = (await fleet.journal('gemini')).length;
  await assert.rejects(client('busy', { retryOptions: { attempts: 3, initialDelay: 0.01, maxDelay: 0.05 } })
    .models.generateContent({ model, contents }), (err) => err.status === 503);
  assert.deepEqual(await attemptsSince(before), [503, 503, 503]);
});

test('gemini stream fault: an error event mid-stream throws after some text', async () => {
  let got = '';
  await assert.rejects((async () => {
    for await (const chunk of await client('stream_error;after_tokens=3;status=500').models.generateContentStream({ model, contents }))
      got += chunk.text ?? '';
  })(), (err) => {
    assert.match(err.message, /INTERNAL/);
    return true;
  });
  assert.ok(got.length > 0);
  assert.doesNotMatch(got, TAG);
});

for (const f of [{ name: 'a stream cut mid-way', fault: 'disconnect;after_tokens=3' },
                 { name: 'half an event, then the connection ends', fault: 'malformed;variant=truncated_sse' }]) {
  test(`gemini stream fault: ${f.name} throws`, async () => {
    let got = '';
    await assert.rejects((async () => {
      for await (const chunk of await client(f.fault).models.generateContentStream({ model, contents })) got += chunk.text ?? '';
    })());
    assert.doesNotMatch(got, TAG);
  });
}

test('gemini stream fault: without its finish chunk the SDK ends quietly (the text is all there)', async () => {
  const { text, last } = await streamed(client('malformed;variant=missing_done'));
  assert.match(text, TAG);
  assert.equal(last.candidates[0].finishReason, undefined);
});

test('gemini stream fault: a stall is silent until the caller aborts', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 500);
  let got = '';
  await assert.rejects((async () => {
    for await (const chunk of await client('stall;after_tokens=2;keepalive=true').models.generateContentStream(
      { model, contents, config: { abortSignal: controller.signal } })) got += chunk.text ?? '';
  })());
  assert.ok(got.length > 0);
  assert.equal((await fleet.journal('gemini')).at(-1).fault, 'stall');
});

test('the status page, /metrics and the journal work the same on every dialect', async () => {
  for (const provider of ['gemini', 'ollama', 'anthropic', 'openai']) {
    const url = fleet.urls[provider];
    const status = await (await fetch(`${url}/api/v2/status.json`)).json();
    assert.ok(status.status.indicator, `${provider}: status page`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.ok(metrics.includes(`brownout_tokens_total{provider="${provider}",kind="prompt"}`), `${provider}: metrics`);
    const journal = await (await fetch(`${url}/_brownout/journal`)).json();
    assert.ok(Array.isArray(journal.attempts), `${provider}: journal`);
  }
});
