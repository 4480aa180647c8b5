// bench_http.mjs: /grafana/query latency against DuckDB and SQLite on the
// same data and question, in the same run (bench/run-http.sh runs it).
//
//   node bench/bench_http.mjs --http HOST:PORT --trades TSV --bars TSV
//       --cache DIR --npm DIR --day0 MS --symbols A,B,... [--runs N]
//       [--db-runs N] [--only-daemon] [--label TEXT]
//       [--live-symbols A,B,...]
//
// The questions (DESIGN.md's performance table and issue 13):
//   day    the three seed panels (price, volume, avg_price_volume) for
//          the ten symbols over the whole stored day at 1000 points
//          (Grafana's intervalMs for it: 60000)
//   5min   the same three panels, the day's last 5 minutes at 1 s
//   hour   the three panels for one symbol over an hour at 1000 points
//          (intervalMs 5000)
// finnstreamd answers each as one POST /grafana/query (three targets, the
// body Grafana 11 sends; and again as three requests of one target each,
// as a dashboard of three panels asks) over a keep-alive connection (a raw socket:
// the request written, the answer read to its Content-Length).  DuckDB and SQLite
// answer each as one SQL query over the same trades (dumped from the
// store with --dump-store), bucketed the same way: close = the last trade
// by (t, arrival), volume = sum, avg_price_volume = sum(p*v)/count; and
// once more over the store's 1 s bars (--dump-store bars), pre-aggregated
// as finnstreamd's own are.  Every answer is checked equal (relative
// 1e-9) to finnstreamd's before any timing.  Prints p50/p99 per engine
// and question, and the ratios inside this run.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const arg = (name, def) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : def;
};
const flag = (name) => process.argv.includes(`--${name}`);
const [host, port] = arg('http').split(':');
const npm = createRequire(path.resolve(arg('npm')) + '/');
const day0 = Number(arg('day0'));
const symbols = arg('symbols').split(',');
const runs = Number(arg('runs', '200'));
const dbRuns = Number(arg('db-runs', '10'));
const cache = arg('cache');
const DAY = 86400000;

// One keep-alive connection to the daemon; made anew before each timed
// phase (SQLite's synchronous calls block this event loop, so an idle
// socket the daemon closed meanwhile would not have been noticed).
let agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const freshAgent = () => {
	agent.destroy();
	agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
};

function post(path, body) {
	return new Promise((resolve, reject) => {
		const data = JSON.stringify(body);
		const req = http.request({ host, port, path, method: 'POST', agent,
			headers: { 'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(data) } }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode,
				body: Buffer.concat(chunks).toString() }));
		});
		req.on('error', reject);
		req.end(data);
	});
}

const iso = (ms) => new Date(ms).toISOString();

// The daemon's own histogram of /grafana/query answer times (from the
// request's arrival to the answer queued on the socket): le -> count.
function serverHistogram() {
	return new Promise((resolve, reject) => {
		http.get({ host, port, path: '/metrics', agent }, (res) => {
			let text = '';
			res.on('data', (c) => { text += c; });
			res.on('end', () => {
				const h = {};
				const re = /^finnstream_http_query_duration_seconds_bucket\{route="\/grafana\/query",le="([^"]+)"\} (\d+)$/gm;
				for (const m of text.matchAll(re))
					h[m[1]] = Number(m[2]);
				resolve(h);
			});
		}).on('error', reject);
	});
}

// The share of the answers between two scrapes within 5 and 10 ms.
function serverShare(a, b) {
	const n = b['+Inf'] - a['+Inf'];
	const within = (le) => (b[le] - a[le]) / n;
	return `server-side ${(100 * within('0.005')).toFixed(1)}% <= 5 ms, ` +
	    `${(100 * within('0.01')).toFixed(1)}% <= 10 ms of ${n}`;
}

// The body Grafana 11 posts for a panel with three targets.
function grafanaBody(q) {
	const targets = ['price', 'volume', 'avg_price_volume'].map((m, i) => ({
		refId: String.fromCharCode(65 + i), target: m, editorMode: 'code',
		datasource: { type: 'simpod-json-datasource', uid: 'finnstream' },
		payload: { symbols: q.symbols } }));
	return { app: 'dashboard', requestId: 'SQR1', timezone: 'browser',
		panelId: 1, dashboardUID: 'finnstream',
		range: { from: iso(q.from), to: iso(q.to),
			raw: { from: iso(q.from), to: iso(q.to) } },
		interval: `${q.iv / 1000}s`, intervalMs: q.iv,
		maxDataPoints: 1000, targets,
		scopedVars: { __sceneObject: { text: '__sceneObject' },
			__interval: { text: `${q.iv / 1000}s`, value: `${q.iv / 1000}s` },
			__interval_ms: { text: String(q.iv), value: q.iv } },
		startTime: q.to, filters: [] };
}

// The timed requests go over one raw keep-alive socket (net): Node's
// http client costs several milliseconds per large answer by itself.
// Returns the answer's status and body length.
let raw = null;
function rawPost(path, body) {
	const data = Buffer.from(JSON.stringify(body));
	const head = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\n` +
	    'Content-Type: application/json\r\n' +
	    `Content-Length: ${data.length}\r\n\r\n`);
	return new Promise((resolve, reject) => {
		const go = () => {
			let buf = Buffer.alloc(0), need = -1, start = 0, status = 0;
			const onData = (chunk) => {
				buf = need < 0 ? Buffer.concat([buf, chunk]) : buf;
				if (need < 0) {
					const i = buf.indexOf('\r\n\r\n');
					if (i < 0)
						return;
					const h = buf.subarray(0, i).toString();
					status = Number(h.slice(9, 12));
					need = Number(/content-length: *(\d+)/i.exec(h)[1]);
					start = buf.length - (i + 4);
				} else {
					start += chunk.length;
				}
				if (start >= need) {
					raw.off('data', onData);
					resolve({ status, length: need });
				}
			};
			raw.on('data', onData);
			raw.write(Buffer.concat([head, data]));
		};
		if (raw && !raw.destroyed)
			return go();
		raw = net.connect({ host, port: Number(port), noDelay: true }, go);
		raw.on('error', reject);
	});
}

// The bucket finnstreamd picks (http_pick_bucket's rule).
function pickBucket(from, to, iv, max) {
	const round = (b) => b < 1 ? 1 : b < 1000 ? b :
		b < 60000 ? Math.ceil(b / 1000) * 1000 :
		b < 3600000 ? Math.ceil(b / 60000) * 60000 :
		Math.ceil(b / 3600000) * 3600000;
	const nb = (b) => Math.ceil((to - (from - from % b)) / b);
	const need = Math.ceil((to - from) / max);
	let b = round(Math.max(need, iv)), steps = 0;
	while (nb(b) > max)
		b = round(++steps > 64 ? b * 2 : b + 1);
	return b;
}

const questions = [
	{ name: 'day', from: day0, to: day0 + DAY, iv: 60000, symbols },
	{ name: '5min', from: day0 + DAY - 300000, to: day0 + DAY, iv: 1000,
		symbols },
	{ name: 'hour', from: day0 + 12 * 3600000, to: day0 + 13 * 3600000,
		iv: 5000, symbols: [symbols[0]] },
];
for (const q of questions)
	q.bucket = pickBucket(q.from, q.to, q.iv, 1000);
const live = arg('live-symbols') ? arg('live-symbols').split(',') : null;

// finnstreamd's answer as rows: symbol -> t -> {close, volume, avg}.
function daemonRows(json) {
	const out = {};
	const key = { A: 'close', B: 'volume', C: 'avg' };
	for (const it of json) {
		const s = (out[it.target] ||= {});
		for (const [v, t] of it.datapoints)
			(s[t] ||= {})[key[it.refId]] = v;
	}
	return out;
}

function dbRows(rows) {
	const out = {};
	for (const r of rows) {
		const s = (out[r.symbol] ||= {});
		s[Number(r.bt)] = { close: Number(r.close), volume: Number(r.volume),
			avg: Number(r.avg) };
	}
	return out;
}

function compare(a, b, what) {
	let n = 0;
	const near = (x, y) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
	for (const sym of new Set([...Object.keys(a), ...Object.keys(b)])) {
		const ta = a[sym] || {}, tb = b[sym] || {};
		for (const t of new Set([...Object.keys(ta), ...Object.keys(tb)])) {
			const x = ta[t], y = tb[t];
			if (!x || !y || !near(x.close, y.close) ||
			    !near(x.volume, y.volume) || !near(x.avg, y.avg))
				throw new Error(`${what}: ${sym} at ${t} differs: ` +
				    `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
			n++;
		}
	}
	return n;
}

function quantiles(ms) {
	const s = [...ms].sort((x, y) => x - y);
	return { p50: s[Math.floor(s.length / 2)],
		p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))],
		n: s.length };
}

async function time(n, fn) {
	const ms = [];
	for (let i = 0; i < n; i++) {
		const t0 = process.hrtime.bigint();
		await fn();
		ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
	}
	return quantiles(ms);
}

// SQL of a question: whole buckets, as finnstreamd answers them.
function sqlOf(q, dialect, table) {
	const b = q.bucket;
	const start = q.from - q.from % b;
	const end = q.to % b ? q.to - q.to % b + b : q.to;
	const list = q.symbols.map((s) => `'${s}'`).join(',');
	const div = dialect === 'duckdb' ? '//' : '/';
	if (table === 'trades') {
		const key = `(t - ${day0}) * 100000000 + seq`;
		const close = dialect === 'duckdb'
			? `arg_max(price, ${key}) AS close`
			: `price AS close, max(${key}) AS k`;
		return `SELECT symbol, (t ${div} ${b}) * ${b} AS bt, ${close}, ` +
		    'sum(volume) AS volume, sum(price * volume) / count(*) AS avg ' +
		    `FROM trades WHERE symbol IN (${list}) AND t >= ${start} AND ` +
		    `t < ${end} GROUP BY symbol, bt ORDER BY symbol, bt`;
	}
	const close = dialect === 'duckdb' ? 'arg_max(close, t) AS close'
		: 'close AS close, max(t) AS k';
	return `SELECT symbol, (t ${div} ${b}) * ${b} AS bt, ${close}, ` +
	    'sum(volume) AS volume, sum(pv) / sum(n) AS avg ' +
	    `FROM bars WHERE symbol IN (${list}) AND t >= ${start} AND ` +
	    `t < ${end} GROUP BY symbol, bt ORDER BY symbol, bt`;
}

async function lines(path, fn) {
	const rl = readline.createInterface({ input: fs.createReadStream(path),
		crlfDelay: Infinity });
	let seq = 0;
	for await (const line of rl) {
		if (line.startsWith('#') || line === '')
			continue;
		fn(line.split('\t'), seq++);
	}
	return seq;
}

async function openSqlite() {
	const Database = npm('better-sqlite3');
	const file = `${cache}/trades.sqlite`;
	const fresh = !fs.existsSync(file);
	const db = new Database(file);
	if (fresh) {
		const t0 = Date.now();
		db.pragma('journal_mode = OFF');
		db.pragma('synchronous = OFF');
		db.exec('CREATE TABLE trades (symbol TEXT, t INTEGER, price REAL, ' +
		    'volume REAL, seq INTEGER); CREATE TABLE bars (symbol TEXT, ' +
		    't INTEGER, close REAL, volume REAL, n INTEGER, pv REAL)');
		const it = db.prepare('INSERT INTO trades VALUES (?, ?, ?, ?, ?)');
		const ib = db.prepare('INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?)');
		let batch = [];
		const flush = db.transaction((rows, st) => {
			for (const r of rows) st.run(...r);
		});
		await lines(arg('trades'), (f, seq) => {
			batch.push([f[0], Number(f[1]), Number(f[2]), Number(f[3]), seq]);
			if (batch.length === 100000) { flush(batch, it); batch = []; }
		});
		flush(batch, it);
		batch = [];
		await lines(arg('bars'), (f) => {
			// symbol t open high low close volume count pv
			batch.push([f[0], Number(f[1]), Number(f[5]), Number(f[6]),
			    Number(f[7]), Number(f[8])]);
			if (batch.length === 100000) { flush(batch, ib); batch = []; }
		});
		flush(batch, ib);
		db.exec('CREATE INDEX trades_st ON trades (symbol, t); ' +
		    'CREATE INDEX bars_st ON bars (symbol, t); ANALYZE');
		console.log(`sqlite: loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	}
	return { run: async (sql) => db.prepare(sql).all() };
}

async function openDuckdb() {
	const { DuckDBInstance } = npm('@duckdb/node-api');
	const file = `${cache}/trades.duckdb`;
	const fresh = !fs.existsSync(file);
	const inst = await DuckDBInstance.create(file, { threads: '1' });
	const conn = await inst.connect();
	if (fresh) {
		const t0 = Date.now();
		await conn.run(`CREATE TABLE trades AS SELECT column0 AS symbol, ` +
		    `column1::BIGINT AS t, column2::DOUBLE AS price, ` +
		    `column3::DOUBLE AS volume, (row_number() OVER ()) - 1 AS seq ` +
		    `FROM read_csv('${arg('trades')}', delim='\t', header=false, ` +
		    `comment='#', quote='', escape='', all_varchar=true)`);
		await conn.run(`CREATE TABLE bars AS SELECT column0 AS symbol, ` +
		    `column1::BIGINT AS t, column5::DOUBLE AS close, ` +
		    `column6::DOUBLE AS volume, column7::BIGINT AS n, ` +
		    `column8::DOUBLE AS pv FROM read_csv('${arg('bars')}', ` +
		    `delim='\t', header=false, comment='#', quote='', escape='', ` +
		    `all_varchar=true)`);
		await conn.run('CHECKPOINT');
		console.log(`duckdb: loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	}
	return { run: async (sql) => (await conn.runAndReadAll(sql))
	    .getRowObjectsJS() };
}

async function main() {
	const label = arg('label', '');
	const results = {};
	const engines = [];
	if (!flag('only-daemon')) {
		engines.push(['duckdb', await openDuckdb()]);
		engines.push(['sqlite', await openSqlite()]);
	}
	for (const q of questions) {
		const body = grafanaBody(q);
		freshAgent();
		const first = await post('/grafana/query', body);
		if (first.status !== 200)
			throw new Error(`${q.name}: ${first.status} ${first.body}`);
		const ours = daemonRows(JSON.parse(first.body));
		const r = (results[q.name] = {});
		raw?.destroy();
		raw = null;
		const h0 = await serverHistogram();
		r.finnstream = await time(runs, () => rawPost('/grafana/query', body));
		r.server = serverShare(h0, await serverHistogram());
		// As a dashboard asks: one request per panel, one after the other.
		const panels = body.targets.map((t) => ({ ...body, targets: [t] }));
		r.panels = await time(runs, async () => {
			for (const b of panels)
				await rawPost('/grafana/query', b);
		});
		for (const [name, db] of engines) {
			for (const table of ['trades', 'bars']) {
				console.log(`# ${q.name}: ${name} over ${table}`);
				const sql = sqlOf(q, name, table);
				const n = compare(ours, dbRows(await db.run(sql)),
				    `${name} ${table} ${q.name}`);
				const t0 = Date.now();
				await db.run(sql);
				// A query of many seconds is timed 3 times only.
				r[`${name}-${table}`] = await time(
				    Date.now() - t0 > 2000 ? Math.min(3, dbRuns) : dbRuns,
				    () => db.run(sql));
				r[`${name}-${table}`].checked = n;
			}
		}
		r.bucket = q.bucket;
	}
	if (live) {
		freshAgent();
		const body = () => {
			const now = Date.now();
			return grafanaBody({ from: now - 300000, to: now, iv: 1000,
				symbols: live });
		};
		const first = await post('/grafana/query', body());
		const pts = JSON.parse(first.body).reduce((n, it) =>
		    n + it.datapoints.length, 0);
		if (first.status !== 200 || pts === 0)
			throw new Error(`live: ${first.status}, ${pts} points`);
		raw?.destroy();
		raw = null;
		results.live = { bucket: 1000,
			finnstream: await time(runs, () => rawPost('/grafana/query',
			    body())) };
		results.live.finnstream.points = pts;
	}
	for (const [qn, r] of Object.entries(results)) {
		const f = r.finnstream;
		let line = `RESULT ${label}${qn} bucket=${r.bucket / 1000}s ` +
		    `finnstream p50=${f.p50.toFixed(3)} p99=${f.p99.toFixed(3)} ms`;
		if (r.server)
			line += ` (${r.server})`;
		if (r.panels)
			line += ` (as 3 requests: p50=${r.panels.p50.toFixed(3)} ` +
			    `p99=${r.panels.p99.toFixed(3)} ms)`;
		for (const [k, v] of Object.entries(r)) {
			if (k === 'finnstream' || k === 'bucket' || k === 'panels' ||
			    k === 'server')
				continue;
			line += ` | ${k} p50=${v.p50.toFixed(2)} p99=` +
			    `${v.p99.toFixed(2)} ms (x${(v.p50 / f.p50).toFixed(0)}, ` +
			    `${v.checked} buckets equal)`;
		}
		console.log(line);
	}
	agent.destroy();
	raw?.destroy();
}

main().catch((e) => { console.error(e); process.exit(1); });
