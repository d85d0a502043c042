// The event and log browser of cc-event-store: plain ES module, no build step.
const $ = (id) => document.getElementById(id);
const state = { items: [], source: undefined };
const BUCKETS = 60;

$('token').value = sessionStorage.getItem('cces-token') ?? '';
$('token').addEventListener('change', () => {
  sessionStorage.setItem('cces-token', $('token').value.trim());
});
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  void search();
});
$('live').addEventListener('change', () => (isLive() ? startLive() : stopLive()));

function isLive() {
  return $('live').checked;
}

function kinds() {
  const k = $('kind').value;
  return k === 'both' ? ['event', 'log'] : [k];
}

/** The filter parameters shared by queries and live tails. */
function filterParams() {
  const p = new URLSearchParams();
  for (const key of ['cluster', 'hostname', 'name', 'level']) {
    const v = $(key).value.trim();
    if (v !== '') p.set(key, v);
  }
  for (const key of ['from', 'to']) {
    const v = $(key).value;
    if (v !== '') p.set(key, new Date(v).toISOString());
  }
  return p;
}

function headers() {
  const token = $('token').value.trim();
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

async function search() {
  const limit = $('limit').value || '500';
  setStatus('searching...');
  // `data-rows` tells scripts and tests that an answer has been drawn.
  delete $('results').dataset.rows;
  try {
    const pages = await Promise.all(
      kinds().map(async (kind) => {
        const p = filterParams();
        p.set('limit', limit);
        const res = await fetch(`/api/v1/${kind}s?${p}`, { headers: headers() });
        const body = await res.json();
        if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.message ?? ''}`);
        return body.items.map((item) => ({ ...item, kind }));
      }),
    );
    state.items = pages.flat().sort((a, b) => compareTime(b.time, a.time));
    setStatus(`${state.items.length} results`);
    render();
    if (isLive()) startLive();
  } catch (err) {
    setStatus(String(err.message ?? err), true);
  }
}

function compareTime(a, b) {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function startLive() {
  stopLive();
  state.source = kinds().map((kind) => {
    const p = filterParams();
    p.delete('to');
    p.delete('from');
    const token = $('token').value.trim();
    // EventSource sends no headers; the stream routes take the token from the query.
    if (token !== '') p.set('token', token);
    const es = new EventSource(`/api/v1/${kind}s/stream?${p}`);
    es.onmessage = (e) => addLive({ ...JSON.parse(e.data), kind });
    es.addEventListener('cutoff', (e) =>
      setStatus(`live tail: ${JSON.parse(e.data).message}`, true),
    );
    es.onerror = () => setStatus('live tail: reconnecting...', true);
    es.onopen = () => setStatus(`${state.items.length} results, live`);
    return es;
  });
}

function stopLive() {
  for (const es of state.source ?? []) es.close();
  state.source = undefined;
}

function addLive(item) {
  state.items.unshift(item);
  const row = rowOf(item);
  row.classList.add('live');
  $('results').tBodies[0].prepend(row);
  drawHistogram();
  $('results').dataset.rows = String(state.items.length);
  setStatus(`${state.items.length} results, live`);
}

function render() {
  const body = $('results').tBodies[0];
  body.replaceChildren(...state.items.map(rowOf));
  const clusters = [...new Set(state.items.map((i) => i.cluster))].sort();
  $('clusters').replaceChildren(...clusters.map((c) => new Option(c, c)));
  drawHistogram();
  $('results').dataset.rows = String(state.items.length);
}

function rowOf(item) {
  const tr = document.createElement('tr');
  const level = item.tags.loglevel ?? item.tags.level ?? '';
  const tags = Object.entries(item.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const cells = [
    item.rfc3339,
    item.kind,
    item.cluster,
    item.name,
    item.tags.hostname ?? '',
    level,
    tags,
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  tr.firstChild.className = 'time';
  const pre = document.createElement('pre');
  pre.textContent = pretty(item.payload);
  const td = document.createElement('td');
  td.append(pre);
  tr.append(td);
  return tr;
}

function pretty(payload) {
  try {
    const v = JSON.parse(payload);
    return typeof v === 'object' && v !== null ? JSON.stringify(v, null, 2) : payload;
  } catch {
    return payload;
  }
}

/** Counts per time bucket of the shown items, as bars. */
function drawHistogram() {
  const canvas = $('histogram');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const times = state.items.map((i) => i.timestamp);
  canvas.dataset.total = String(times.length);
  if (times.length === 0) return;
  const lo = Math.min(...times);
  const span = Math.max(Math.max(...times) - lo, 1);
  const counts = new Array(BUCKETS).fill(0);
  for (const t of times) counts[Math.min(BUCKETS - 1, Math.floor(((t - lo) / span) * BUCKETS))]++;
  const max = Math.max(...counts);
  const w = canvas.width / BUCKETS;
  g.fillStyle = '#4a7bd0';
  counts.forEach((c, i) => {
    const h = (c / max) * (canvas.height - 16);
    g.fillRect(i * w + 1, canvas.height - h, w - 2, h);
  });
  g.fillStyle = '#555';
  g.fillText(new Date(lo * 1000).toISOString(), 4, 12);
  const end = new Date((lo + span) * 1000).toISOString();
  g.fillText(end, canvas.width - g.measureText(end).width - 4, 12);
  canvas.dataset.counts = counts.join(',');
}

void search();
