// Load generator for bench/stream_load.sh: keeps STREAMS SSE streams open against the mock
// (each replaced by a new one when it ends) plus RPS non-streaming requests a second, for
// SECONDS; measures the gap between consecutive chunks against the 20 ms a 50 tokens/s stream
// should have, counts errors, and samples the server's RSS.
import { readFileSync } from 'node:fs';

const [url, pid, streams, rps, seconds] = process.argv.slice(2);
const end = Date.now() + Number(seconds) * 1000;
const body = (stream) => JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'load' }] });
const errors = { streams: 0, requests: 0 };
const timingErrors = [];
let chunks = 0, completedStreams = 0, completedRequests = 0;
const rss = [];

async function streamLoop() {
  while (Date.now() < end) {
    try {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(true) });
      if (res.status !== 200) { errors.streams++; continue; }
      // Each token is one chunk on the wire: the gap between chunks is the inter-token gap.
      let last = 0, first = true, done = false;
      for await (const piece of res.body) {
        const now = performance.now();
        const s = Buffer.from(piece).toString();
        if (s.includes('"content":"') && !s.includes('"content":""')) {
          if (!first) timingErrors.push(Math.abs(now - last - 20));
          first = false;
          last = now;
          chunks++;
        }
        if (s.includes('[DONE]')) done = true;
      }
      const text = done ? '[DONE]' : '';
      if (!text.includes('[DONE]')) errors.streams++;
      else completedStreams++;
    } catch { errors.streams++; }
  }
}

async function requestLoop() {
  const interval = 1000 / Number(rps);
  while (Date.now() < end) {
    const started = Date.now();
    fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(false) })
      .then(async (r) => { await r.text(); if (r.status === 200) completedRequests++; else errors.requests++; })
      .catch(() => errors.requests++);
    await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - started))));
  }
}

const sampler = setInterval(() => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  rss.push(Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024);
}, 5000);

await Promise.all([...Array(Number(streams)).keys()].map(() => streamLoop()).concat([requestLoop()]));
clearInterval(sampler);
timingErrors.sort((a, b) => a - b);
const q = (p) => timingErrors[Math.min(timingErrors.length - 1, Math.floor(p * timingErrors.length))]?.toFixed(2);
console.log(`streams completed ${completedStreams}, stream errors ${errors.streams}; requests completed ${completedRequests}, request errors ${errors.requests}`);
console.log(`inter-token timing error (ms): p50 ${q(0.5)}  p99 ${q(0.99)}  max ${q(1)}  over ${timingErrors.length} gaps`);
console.log(`server RSS (MiB) every 5 s: ${rss.map((r) => r.toFixed(0)).join(' ')}`);
