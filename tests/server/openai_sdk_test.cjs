// Drives `pagellm serve --fake-engine` with the official OpenAI Node.js SDK.
// Usage: node openai_sdk_test.cjs SDK_DIR PORT API_KEY
const { createRequire } = require('module');
const assert = require('assert/strict');
const [sdkDir, port, apiKey] = process.argv.slice(2);
const OpenAI = createRequire(sdkDir + '/package.json')('openai');
const baseURL = `http://127.0.0.1:${port}/v1`;
const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });

async function collect(stream) {
  const texts = {}, chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const c of chunk.choices) {
      const t = c.text ?? c.delta?.content ?? '';
      texts[c.index] = (texts[c.index] ?? '') + t;
    }
  }
  return { texts, chunks };
}

async function expectError(promise, Klass, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Klass, `expected ${Klass.name}, got ${e.constructor.name}: ${e}`);
    assert.equal(e.status, status);
    assert.equal(typeof e.message, 'string');
    return true;
  });
}

async function main() {
  const models = await client.models.list();
  assert.equal(models.data[0].id, 'fake-model');

  const c = await client.completions.create({ model: 'fake-model', prompt: 'Hello', max_tokens: 12, n: 2, logprobs: 2 });
  assert.equal(c.choices.length, 2);
  assert.equal(c.usage.completion_tokens, 24);
  assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
  assert.equal(c.choices[0].logprobs.tokens.join(''), c.choices[0].text);
  const cs = await collect(await client.completions.create({
    model: 'fake-model', prompt: 'Hello', max_tokens: 12, n: 2, stream: true,
    stream_options: { include_usage: true } }));
  assert.equal(cs.texts[0], c.choices[0].text);
  assert.equal(cs.texts[1], c.choices[1].text);
  assert.deepEqual(cs.chunks.at(-1).usage.completion_tokens, 24);

  const messages = [{ role: 'system', content: 'terse' }, { role: 'user', content: 'Hi there' }];
  const chat = await client.chat.completions.create({ model: 'fake-model', messages, max_tokens: 30,
    n: 3, logprobs: true, top_logprobs: 2 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices.length, 3);
  assert.equal(chat.choices[0].message.role, 'assistant');
  assert.equal(chat.choices[0].logprobs.content.length, 30);
  assert.equal(chat.choices[0].logprobs.content[0].top_logprobs.length, 2);
  assert.equal(chat.usage.completion_tokens, 90);
  const chs = await collect(await client.chat.completions.create({ model: 'fake-model', messages,
    max_tokens: 30, n: 3, stream: true, stream_options: { include_usage: true } }));
  for (let i = 0; i < 3; ++i) assert.equal(chs.texts[i], chat.choices[i].message.content);
  assert.equal(chs.chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chs.chunks.at(-1).usage.total_tokens, chat.usage.total_tokens);

  const full = (await client.completions.create({ model: 'fake-model', prompt: 'Hello', max_tokens: 100 })).choices[0].text;
  const stop = await client.completions.create({ model: 'fake-model', prompt: 'Hello', max_tokens: 100, stop: ['fox'] });
  assert.equal(stop.choices[0].finish_reason, 'stop');
  assert.equal(stop.choices[0].text, full.slice(0, full.indexOf('fox')));
  const stopStream = await collect(await client.completions.create({ model: 'fake-model',
    prompt: 'Hello', max_tokens: 100, stop: ['fox'], stream: true }));
  assert.equal(stopStream.texts[0], stop.choices[0].text);

  await expectError(client.completions.create({ model: 'fake-model', prompt: 'x', max_tokens: -1 }),
                    OpenAI.BadRequestError, 400);
  await expectError(client.completions.create({ model: 'nope', prompt: 'x' }), OpenAI.NotFoundError, 404);
  await expectError(client.chat.completions.create({ model: 'fake-model', messages: [], max_tokens: 1 }),
                    OpenAI.BadRequestError, 400);
  const noKey = new OpenAI({ apiKey: 'wrong', baseURL, maxRetries: 0 });
  await expectError(noKey.models.list(), OpenAI.AuthenticationError, 401);
  console.log('openai sdk test: OK');
}

main().catch((e) => { console.error(e); process.exit(1); });
