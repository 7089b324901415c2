// Chorus web page: a streaming chat box and a live view of the engine. Plain JavaScript, no build
// step, nothing loaded from elsewhere. The live panel polls GET /v1/engine/status; the chart keeps
// the samples the server sends (each once, through ?since=).
'use strict';
(() => {
  const POLL_MS = 500;
  const KEY_STORE = 'chorus.apiKey';
  const MAX_ROWS = 64;
  const $ = (id) => document.getElementById(id);
  const authRequired = document.querySelector('meta[name="chorus-auth"]').content === 'required';

  // ---- API key ----

  function apiKey() { return sessionStorage.getItem(KEY_STORE); }

  function headers(json) {
    const h = {};
    if (json) h['Content-Type'] = 'application/json';
    const k = apiKey();
    if (k) h.Authorization = 'Bearer ' + k;
    return h;
  }

  function askForKey(message) {
    $('key-form').hidden = false;
    $('key-error').hidden = !message;
    $('key-error').textContent = message || '';
    $('api-key').focus();
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const k = $('api-key').value.trim();
    if (!k) return;
    sessionStorage.setItem(KEY_STORE, k);
    $('api-key').value = '';
    $('key-form').hidden = true;
    startPolling();
  });

  // ---- live engine panel ----

  let samples = [];       // history samples, oldest first
  let historyCapacity = 300;
  let lastSampleTime = 0;
  let polling = false;
  let lastDraw = null;    // [server time, sample interval] of the latest render

  function setConn(text, cls) {
    const c = $('conn');
    c.textContent = text;
    c.className = 'pill ' + (cls || '');
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    poll();
  }

  async function poll() {
    try {
      const r = await fetch('/v1/engine/status?since=' + lastSampleTime, { headers: headers(false), cache: 'no-store' });
      if (r.status === 401) {
        const hadKey = apiKey() !== null;
        sessionStorage.removeItem(KEY_STORE);
        polling = false;
        setConn('needs key', 'down');
        askForKey(hadKey ? 'The server did not accept this key.' : '');
        return;
      }
      if (r.ok) {
        render(await r.json());
        setConn('live', 'live');
      } else {
        setConn(r.status === 503 ? 'loading' : 'error ' + r.status, 'down');
      }
    } catch (e) {
      setConn('offline', 'down');
    }
    setTimeout(poll, POLL_MS);
  }

  const fmt = (v, digits) => (v === undefined || v === null) ? '-' : Number(v).toFixed(digits);

  function render(s) {
    $('model').textContent = s.model;
    $('running').textContent = s.running;
    $('waiting').textContent = s.waiting;
    $('max-seqs').textContent = s.max_num_seqs;
    const kv = s.kv_cache;
    $('kv-used').textContent = kv.blocks_used;
    $('kv-total').textContent = kv.blocks_total;
    $('kv-cached').textContent = kv.blocks_cached;
    $('kv-block-size').textContent = kv.block_size;
    const total = Math.max(1, kv.blocks_total);
    $('kv-bar-used').style.width = (100 * kv.blocks_used / total) + '%';
    $('kv-bar-cached').style.width = (100 * Math.min(total, kv.blocks_used + kv.blocks_cached) / total) + '%';
    $('hit-rate').textContent = s.prefix_cache.queries === 0 ? '-' : fmt(100 * s.prefix_cache.hit_rate, 1) + '%';
    $('last-step').textContent = s.last_step.seqs + ' seqs';
    $('last-step-tokens').textContent = s.last_step.tokens;
    const r = s.rates;
    $('gen-rate').textContent = fmt(r.generation_tokens_per_s, 1);
    $('batched-rate').textContent = fmt(r.batched_tokens_per_s, 0);
    $('steps-rate').textContent = fmt(r.steps_per_s, 1);
    $('batch').textContent = fmt(r.mean_batch_seqs, 1);
    renderSequences(s.sequences, s.running + s.waiting);
    historyCapacity = s.history.capacity;
    const fresh = s.history.samples;
    if (fresh.length > 0) {
      samples = samples.concat(fresh).slice(-historyCapacity);
      lastSampleTime = fresh[fresh.length - 1].time_ms;
    }
    lastDraw = [s.time_ms, s.history.interval_ms];
    drawChart(s.time_ms, s.history.interval_ms);
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderSequences(seqs, count) {
    const body = $('seq-rows');
    const rows = [];
    for (const q of seqs.slice(0, MAX_ROWS)) {
      const tr = document.createElement('tr');
      tr.dataset.phase = q.phase;
      const id = cell(tr, q.request_id + (q.index > 0 ? ' #' + q.index : ''), 'id');
      id.title = q.request_id;
      const phase = cell(tr, '');
      const tag = document.createElement('span');
      tag.className = 'phase ' + q.phase;
      tag.textContent = q.phase;
      phase.appendChild(tag);
      cell(tr, Math.min(q.computed_tokens, q.prompt_tokens) + ' / ' + q.prompt_tokens);
      cell(tr, q.generated_tokens);
      cell(tr, fmt(q.age_ms / 1000, 1) + ' s');
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    $('seq-more').textContent = count > rows.length ? (count - rows.length) + ' more not shown' : (count === 0 ? 'No request is running.' : '');
  }

  function drawChart(nowMs, intervalMs) {
    const canvas = $('chart');
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const style = getComputedStyle(document.documentElement);
    const color = (name) => style.getPropertyValue(name).trim();
    const left = 44, right = 34, top = 8, bottom = 18;
    const pw = w - left - right, ph = h - top - bottom;
    // The window grows with the history, from one minute up to all the server keeps.
    const kept = samples.length ? nowMs - samples[0].time_ms : 0;
    const span = Math.min(historyCapacity * intervalMs, Math.max(60000, Math.ceil(kept / 60000) * 60000));
    const x = (t) => left + pw * (1 - (nowMs - t) / span);
    const maxGen = niceCeil(Math.max(1, ...samples.map((s) => s.generation_tokens_per_s)));
    const maxRun = niceCeil(Math.max(1, ...samples.map((s) => s.running + s.waiting)));

    g.font = '11px system-ui, sans-serif';
    g.fillStyle = color('--muted');
    g.strokeStyle = color('--line');
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) { // grid and the two value axes
      const y = top + ph * i / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(left + pw, y); g.stroke();
      g.textAlign = 'right'; g.fillText(fmtAxis(maxGen * (1 - i / 4)), left - 4, y + 4);
      g.textAlign = 'left'; g.fillText(fmtAxis(maxRun * (1 - i / 4)), left + pw + 4, y + 4);
    }
    g.textAlign = 'center';
    const tick = span <= 60000 ? 15000 : 60000;
    for (let k = 0; k * tick <= span; k++) { // time ago
      const t = nowMs - k * tick;
      const label = k === 0 ? 'now' : tick < 60000 ? '-' + (k * tick / 1000) + ' s' : '-' + (k * tick / 60000) + ' min';
      g.fillText(label, Math.max(left + 12, Math.min(x(t), left + pw - 10)), h - 4);
    }
    const series = (value, max, col, fill, dash) => {
      if (samples.length === 0) return;
      g.beginPath();
      samples.forEach((s, i) => {
        const px = x(s.time_ms), py = top + ph * (1 - Math.min(1, value(s) / max));
        if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
      });
      g.strokeStyle = col; g.lineWidth = 1.6; g.setLineDash(dash || []); g.stroke(); g.setLineDash([]);
      if (fill) {
        g.lineTo(x(samples[samples.length - 1].time_ms), top + ph);
        g.lineTo(x(samples[0].time_ms), top + ph);
        g.closePath(); g.globalAlpha = 0.15; g.fillStyle = col; g.fill(); g.globalAlpha = 1;
      }
    };
    series((s) => s.generation_tokens_per_s, maxGen, color('--gen'), true);
    series((s) => s.running, maxRun, color('--run'), false);
    series((s) => s.kv_usage, 1, color('--kv'), false, [4, 3]); // share of the cache: the chart's full height is 100%
  }

  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function fmtAxis(v) { return v >= 100 ? Math.round(v).toString() : (Math.round(v * 10) / 10).toString(); }

  // ---- chat ----

  const conversation = []; // {role, content} of finished turns
  let controller = null;

  function bubble(role, text) {
    const div = document.createElement('div');
    div.className = 'msg ' + role;
    if (role === 'assistant') {
      const reasoning = document.createElement('span');
      reasoning.className = 'reasoning';
      const content = document.createElement('span');
      content.className = 'content';
      content.textContent = text;
      div.append(reasoning, content);
    } else {
      div.textContent = text;
    }
    $('messages').appendChild(div);
    $('messages').scrollTop = $('messages').scrollHeight;
    return div;
  }

  function numberKnob(id, integer) {
    const v = $(id).value.trim();
    if (v === '') return undefined;
    return integer ? parseInt(v, 10) : parseFloat(v);
  }

  function setBusy(busy) {
    $('send').disabled = busy;
    $('stop').disabled = !busy;
  }

  async function send(prompt) {
    conversation.push({ role: 'user', content: prompt });
    bubble('user', prompt);
    const out = bubble('assistant', '');
    const contentEl = out.querySelector('.content');
    const reasoningEl = out.querySelector('.reasoning');
    out.dataset.state = 'streaming';
    const messages = [];
    const system = $('system').value.trim();
    if (system) messages.push({ role: 'system', content: system });
    messages.push(...conversation);
    const body = { messages, stream: true, stream_options: { include_usage: true } };
    const knobs = { temperature: numberKnob('temperature'), top_p: numberKnob('top-p'),
      max_tokens: numberKnob('max-tokens', true), seed: numberKnob('seed', true) };
    for (const [k, v] of Object.entries(knobs)) if (v !== undefined && !Number.isNaN(v)) body[k] = v;

    controller = new AbortController();
    setBusy(true);
    $('chat-stats').textContent = '';
    const started = performance.now();
    let firstAt = null, text = '', usage = null, finish = null;
    try {
      const r = await fetch('/v1/chat/completions', { method: 'POST', headers: headers(true), body: JSON.stringify(body), signal: controller.signal });
      if (!r.ok) {
        const err = await r.json().catch(() => null);
        if (r.status === 401) askForKey('The server did not accept this key.');
        throw new Error((err && err.error && err.error.message) || ('the server answered ' + r.status));
      }
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, end);
          buf = buf.slice(end + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue;
            const data = line.slice(5).trim();
            if (data === '[DONE]') continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            if (chunk.usage) usage = chunk.usage;
            const choice = chunk.choices && chunk.choices[0];
            if (!choice) continue;
            const d = choice.delta || {};
            if (d.reasoning_content) reasoningEl.textContent += d.reasoning_content;
            if (d.content) {
              if (firstAt === null) firstAt = performance.now();
              text += d.content;
              contentEl.textContent = text;
              $('messages').scrollTop = $('messages').scrollHeight;
            }
            if (choice.finish_reason) finish = choice.finish_reason;
          }
        }
      }
      conversation.push({ role: 'assistant', content: text });
      out.dataset.state = 'done';
      const seconds = (performance.now() - (firstAt || started)) / 1000;
      const parts = [];
      if (usage) parts.push(usage.completion_tokens + ' tokens', fmt(usage.completion_tokens / Math.max(seconds, 1e-3), 1) + ' tokens/s');
      if (firstAt !== null) parts.push('first token after ' + Math.round(firstAt - started) + ' ms');
      if (finish) parts.push('finish: ' + finish);
      $('chat-stats').textContent = parts.join(', ');
    } catch (e) {
      conversation.pop(); // the turn did not complete: it is not part of the next request
      if (e.name === 'AbortError') {
        out.dataset.state = 'stopped';
        $('chat-stats').textContent = 'stopped';
      } else {
        out.dataset.state = 'error';
        const err = document.createElement('span');
        err.className = 'error';
        err.textContent = (text ? '\n' : '') + 'Error: ' + e.message;
        out.appendChild(err);
      }
    } finally {
      controller = null;
      setBusy(false);
    }
  }

  $('prompt-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('prompt').value.trim();
    if (!text || controller) return;
    if (authRequired && !apiKey()) { askForKey(''); return; }
    $('prompt').value = '';
    send(text);
  });
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('prompt-form').requestSubmit();
    }
  });
  $('stop').addEventListener('click', () => { if (controller) controller.abort(); });
  $('clear').addEventListener('click', () => {
    if (controller) controller.abort();
    conversation.length = 0;
    $('messages').replaceChildren();
    $('chat-stats').textContent = '';
  });
  window.addEventListener('resize', () => { if (lastDraw) drawChart(lastDraw[0], lastDraw[1]); });

  if (authRequired && !apiKey()) {
    setConn('needs key', 'down');
    askForKey('');
  } else {
    startPolling();
  }
})();
