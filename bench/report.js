#!/usr/bin/env node
// bench/report.js: turns the raw measurements of bench/run.sh into
// OUT/results.json and a markdown table (OUT/results.md, also printed).
//
//   node bench/report.js OUT MODEL_DIR
//
// Reads OUT/raw.jsonl (one JSON object per measurement), OUT/tmp/dev.ids (the
// workload's token ids, for the FLOP count), the logits files of the core and
// ONNX Runtime runs and the SQL result files (for sanity checks).
'use strict';
const fs = require('fs');
const path = require('path');

const [OUT, MODEL] = process.argv.slice(2);
if (!OUT || !MODEL) {
	console.error('usage: node bench/report.js OUT MODEL_DIR');
	process.exit(2);
}
const T = path.join(OUT, 'tmp');
const raw = fs.readFileSync(path.join(OUT, 'raw.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
	.map((l) => JSON.parse(l));
const byKind = (k) => raw.filter((r) => r.kind === k);
const meta = byKind('meta')[0] || {};
const cfg = JSON.parse(fs.readFileSync(path.join(MODEL, 'config.json'), 'utf8'));
const d = cfg.dim, h = cfg.hidden_dim, L = cfg.n_layers, H = cfg.n_heads;
const labels = Object.keys(cfg.id2label).sort((a, b) => a - b).map((k) => cfg.id2label[k]);
const nl = labels.length;

const readLines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length) : null);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const best = (a) => Math.min(...a);
const fmt = (x, p = 1) => (x === undefined || x === null || !isFinite(x) ? 'n/a' : x.toFixed(p));

// ---------------------------------------------------------------- FLOPs of the workload
const lens = readLines(path.join(T, 'dev.ids')).map((l) => l.trim().split(/\s+/).length);
const N = lens.length;
let projF = 0, ffnF = 0, attF = 0, clsF = 0, otherF = 0;
for (const t of lens) {
	projF += L * 4 * 2 * t * d * d;          // q, k, v, out projections
	ffnF += L * 2 * 2 * t * d * h;           // lin1 + lin2
	attF += L * 2 * 2 * t * t * d;           // scores QK^T and context AV, all heads
	clsF += 2 * d * d + 2 * d * nl;          // pre_classifier + classifier on the CLS row
	// not counted, rough: embeddings add + LayerNorms (~9 ops/elem), GELU (~8), softmax (~5), residuals
	otherF += 11 * t * d + L * (2 * 9 * t * d + 8 * t * h + 5 * H * t * t + 2 * t * d);
}
const flops = projF + ffnF + attF + clsF;
// what sst2 itself computes: its last block carries only the [CLS] row past
// attention (q projection, out projection, FFN and the query side of the
// scores run on 1 row instead of t), since nothing else reaches the classifier
let skipped = 0;
for (const t of lens) skipped += (t - 1) * (2 * 2 * d * d + 2 * 2 * d * h + 2 * 2 * t * d);
const tokens = lens.reduce((a, b) => a + b, 0);

const sqlLabels = {
	sql_row: 'SQL per row: `sst2_classify(sentence)`',
	sql_agg: 'SQL `sst2_classify_agg(sentence ORDER BY id)`',
	sql_window: 'SQL `sst2_classify_window(sentence) OVER (ORDER BY id)`',
	sql_batchfn: 'SQL `sst2_classify_batch(array_agg(sentence ORDER BY id))`',
	sql_agg_sorted32: 'SQL `sst2_classify_agg(sentence ORDER BY length(sentence))`',
	tag_trigger: 'tagging: `INSERT` with the `sst2_tag` row trigger',
	tag_insert_window: 'tagging: `INSERT ... SELECT` computing the columns with the window form',
	tag_backfill: 'tagging: window-form backfill `UPDATE` after a plain `INSERT`',
};

// ---------------------------------------------------------------- environments
// every measurement carries "env" (user: OpenBLAS left to choose; pinned: OPENBLAS_CORETYPE set)
const envs = (meta.envs || 'user').split(',').filter((e) => raw.some((r) => r.env === e));
if (!envs.length) envs.push(undefined);
const inEnv = (k, e) => byKind(k).filter((r) => e === undefined || r.env === e);
const metaEnd = byKind('meta_end')[0] || {};

// ---------------------------------------------------------------- per environment: sgemm, rows, ratios
const sections = {};
for (const env of envs) {
	const sec = { env };
	sections[env] = sec;
	// sgemm was measured twice (start and end of the environment's part): keep the best of each shape
	const sgemm = [];
	for (const x of inEnv('sgemm', env)) {
		const o = sgemm.find((y) => y.m === x.m && y.n === x.n && y.k === x.k);
		if (!o) sgemm.push({ ...x, runs: [x.gflops] });
		else {
			o.runs.push(x.gflops);
			if (x.gflops > o.gflops) Object.assign(o, { ...x, runs: o.runs });
		}
	}
	sec.sgemm = sgemm;
	sec.sgemmPeak = sgemm.length ? Math.max(...sgemm.map((x) => x.gflops)) : null;
	// the core's FMA peak (widest vectors, best of both measurements) is the limit; runs
	// without it fall back to the sgemm peak
	const fma = inEnv('fma_peak', env);
	sec.fmaPeak = fma.length ? Math.max(...fma.map((x) => x.gflops)) : null;
	sec.fmaIsa = fma.length ? fma.reduce((a, x) => (x.gflops > a.gflops ? x : a)).isa : null;
	sec.peak = sec.fmaPeak || sec.sgemmPeak;
	sec.limitBy = sec.fmaPeak ? `the ${sec.fmaIsa} FMA peak` : 'the sgemm peak';
	sec.limitS = sec.peak ? flops / (sec.peak * 1e9) : null;
	sec.limitSps = sec.limitS ? N / sec.limitS : null;
	// the CPU's own path; the portable part's runs (SST2_ISA forced) are rows of their own
	const opens = inEnv('core_open', env).filter((o) => !o.forced_isa);
	sec.openblas_core = (opens[0] || {}).openblas_core || null;
	sec.isa = (opens[0] || {}).isa || null;
	sec.kernels = Object.fromEntries(opens.map((o) => [o.precision, o.kernel]));
	sec.server = inEnv('server', env)[0] || null;
	sec.ort_int8_ops = (inEnv('ort_int8_ops', env)[0] || {}).ops || null;

	const rows = [];
	const addRow = (key, label, r, n = N) => {
		if (!r) return;
		const times = r.times_s;
		rows.push({ key, label, sentences: n, best_s: best(times), median_s: median(times), times_s: times });
	};
	for (const r of inEnv('core_forward', env)) {
		const p = r.precision || 'fp32';
		const f = r.forced_isa;
		const label = `core ${p}${f ? `, SST2_ISA=${f}` : ''}: ` + (r.sorted ? `length-sorted batches of ${r.batch}` : r.batch === 1 ? 'batch 1' : `batches of ${r.batch} (file order)`) + (r.kernel ? ` [${r.kernel}]` : '');
		addRow(`core_${p}_${r.spec}${f ? `_${f}` : ''}`, label, r);
	}
	for (const r of inEnv('sql', env)) {
		const p = r.sql_precision || meta.precision || 'fp32';
		if (!sqlLabels[r.name]) continue;
		addRow(`${r.name}_${p}`, `${sqlLabels[r.name]} (${p})` + (r.name !== 'sql_row' && !r.name.startsWith('tag_') ? `, sst2.batch_size ${r.batch_size}` : ''), r);
	}
	const ortRows = {};
	for (const r of inEnv('ort_forward', env)) {
		const m = r.model || 'fp32';
		const label = `ONNX Runtime ${m}: ` + (r.mode === 'b1' ? 'batch 1' : `length-sorted batches of ${r.mode.slice(1)} (padded)`);
		addRow(`ort_${m}_${r.mode}`, label, r);
		ortRows[`${m}_${r.mode}`] = rows[rows.length - 1];
	}
	for (const r of rows) {
		r.sps_best = r.sentences / r.best_s;
		r.sps_median = r.sentences / r.median_s;
	}
	for (const r of rows) {
		r.gflops = flops / r.best_s / 1e9;
		for (const k of ['fp32_b1', 'fp32_s32', 'int8_b1', 'int8_s32']) r[`vs_ort_${k}`] = ortRows[k] ? r.sps_best / ortRows[k].sps_best : null;
		r.of_limit = sec.limitS ? sec.limitS / r.best_s : null;
	}
	sec.rows = rows;
	sec.ortRows = ortRows;
	const row = (k) => rows.find((r) => r.key === k);
	sec.row = row;
	// the peer ratios issue 22 asks for (core library; SQL where that precision ran through SQL)
	const ratio = (name, ours, peer, goal) => {
		const o = row(ours), pr = ortRows[peer];
		const v = o && pr ? o.sps_best / pr.sps_best : null;
		return { name, ours, peer: `ort_${peer}`, value: v, goal, met: v === null ? null : v >= goal };
	};
	sec.ratios = [
		ratio('int8 batched (sorted 32) vs ORT int8 sorted 32', 'core_int8_s32', 'int8_s32', 1.3),
		ratio('int8 per row (batch 1) vs ORT int8 batch 1', 'core_int8_1', 'int8_b1', 1.3),
		ratio('bf16 batched (sorted 32) vs ORT fp32 sorted 32', 'core_bf16_s32', 'fp32_s32', 2.0),
		ratio('fp32 batched (sorted 32) vs ORT fp32 sorted 32', 'core_fp32_s32', 'fp32_s32', 1.2),
		ratio('fp32 per row (batch 1) vs ORT fp32 batch 1', 'core_fp32_1', 'fp32_b1', 1.0),
	];
	for (const p of ['fp32', 'bf16', 'int8']) {
		const peer = p === 'int8' ? 'int8' : 'fp32';
		if (row(`sql_agg_sorted32_${p}`)) sec.ratios.push(ratio(`SQL ${p} sst2_classify_agg (sorted, batch 32) vs ORT ${peer} sorted 32`, `sql_agg_sorted32_${p}`, `${peer}_s32`, p === 'bf16' ? 2.0 : p === 'int8' ? 1.3 : 1.2));
		if (row(`sql_row_${p}`)) sec.ratios.push(ratio(`SQL ${p} per row vs ORT ${peer} batch 1`, `sql_row_${p}`, `${peer}_b1`, p === 'int8' ? 1.3 : 1.0));
	}

	// ---------------------------------------------------------------- sanity: logits, ids, SQL labels
	const sanity = {};
	const readLogits = (f) => { const l = readLines(f); return l && l.map((x) => x.trim().split(/\s+/).map(Number)); };
	const maxDiff = (x, y) => {
		if (!x || !y || x.length !== y.length) return null;
		let m = 0;
		x.forEach((r, i) => r.forEach((v, j) => { m = Math.max(m, Math.abs(v - y[i][j])); }));
		return m;
	};
	const lg = (f) => readLogits(path.join(T, f));
	const core1 = lg(`core.${env}.fp32.1.txt`);
	const ortb1 = lg(`ort.${env}.fp32.b1.txt`);
	sanity.max_abs_logit_diff = {
		ort_fp32_b1_vs_core_fp32_b1: maxDiff(ortb1, core1),
		ort_fp32_s32_vs_core_fp32_s32: maxDiff(lg(`ort.${env}.fp32.s32.txt`), lg(`core.${env}.fp32.s32.txt`)),
		ort_fp32_s32_vs_ort_fp32_b1: maxDiff(lg(`ort.${env}.fp32.s32.txt`), ortb1),
		// the portable paths against ORT (fp32: the parity bound; int8: the quality bound)
		ort_fp32_b1_vs_core_fp32_b1_avx2: maxDiff(ortb1, lg(`core.${env}.fp32.avx2.1.txt`)),
		ort_fp32_b1_vs_core_fp32_b1_generic: maxDiff(ortb1, lg(`core.${env}.fp32.generic.1.txt`)),
		ort_fp32_b1_vs_core_int8_s32_portable: maxDiff(ortb1, lg(`core.${env}.int8.avx2.s32.txt`)),
		core_fp32_64_vs_core_fp32_b1: maxDiff(lg(`core.${env}.fp32.64.txt`), core1),
		core_fp32_s32_vs_core_fp32_b1: maxDiff(lg(`core.${env}.fp32.s32.txt`), core1),
		core_bf16_b1_vs_core_fp32_b1: maxDiff(lg(`core.${env}.bf16.1.txt`), core1),
		core_int8_b1_vs_core_fp32_b1: maxDiff(lg(`core.${env}.int8.1.txt`), core1),
		ort_int8_b1_vs_ort_fp32_b1: maxDiff(lg(`ort.${env}.int8.b1.txt`), ortb1),
		core_int8_b1_vs_ort_int8_b1: maxDiff(lg(`core.${env}.int8.1.txt`), lg(`ort.${env}.int8.b1.txt`)),
	};
	const sqlIds = readLines(path.join(T, 'sql.ids'));
	if (sqlIds) {
		const ours = readLines(path.join(T, 'dev.ids'));
		sanity.sql_tokenize_mismatches = ours.filter((l, i) => l.trim() !== (sqlIds[i] || '').trim()).length;
	}
	// verdicts from SQL output vs the core's batch-1 logits at the same precision
	const verdicts = (logits) => (logits || []).map((v) => {
		const m = Math.max(...v), e = v.map((x) => Math.exp(x - m)), sum = e.reduce((x, y) => x + y, 0);
		const top = v.indexOf(m);
		return { label: labels[top], score: e[top] / sum };
	});
	const parseVerdicts = (f) => {
		if (!fs.existsSync(f)) return null;
		const out = [];
		const re = /\(([^,()"]+),([^()"]+)\)/g;
		let m;
		const text = fs.readFileSync(f, 'utf8');
		while ((m = re.exec(text)) !== null) out.push({ label: m[1], score: Number(m[2]) });
		return out;
	};
	sanity.sql_vs_core_b1 = {};
	for (const p of ['fp32', 'bf16', 'int8']) {
		const ref = verdicts(lg(`core.${env}.${p}.1.txt`));
		if (!ref.length) continue;
		for (const k of ['sql_row', 'sql_agg', 'sql_window', 'sql_batchfn']) {
			const v = parseVerdicts(path.join(T, `${env}.${p}.${k}.out`));
			if (!v) continue;
			let dis = 0, md = 0;
			v.forEach((x, i) => {
				if (!ref[i] || x.label !== ref[i].label) dis++;
				else md = Math.max(md, Math.abs(x.score - ref[i].score));
			});
			sanity.sql_vs_core_b1[`${k}_${p}`] = { rows: v.length, expected: N, label_disagreements: dis + Math.abs(N - v.length), max_score_diff: md };
		}
	}
	sec.sanity = sanity;
}
const main = sections[envs[0]];
const rows = main.rows;
const row = main.row;

// ---------------------------------------------------------------- tokenizer, first call, memory, parallel
const tok = {};
const ct = byKind('core_tokenize')[0];
if (ct) tok.ours = { sps_best: (ct.sentences * ct.iters) / ct.best_s, sps_median: (ct.sentences * ct.iters) / ct.median_s, mb_s: (ct.bytes * ct.iters) / ct.best_s / 1e6 };
for (const k of ['npm_tokenize_encode', 'npm_tokenize_encodeBatch']) {
	const r = byKind(k)[0];
	if (r) tok[k.replace('npm_tokenize_', 'npm_')] = { sps_best: (r.sentences * r.iters) / r.best_s, sps_median: (r.sentences * r.iters) / r.median_s, mb_s: (r.bytes * r.iters) / r.best_s / 1e6, id_mismatches_vs_ours: r.mismatches };
}
const fc = byKind('first_call')[0];
const diffs = fc && fc.second_call_ms ? fc.first_call_ms.map((x, i) => x - fc.second_call_ms[i]) : null;
const cpuDiffs = fc && fc.first_call_cpu_ms && fc.first_call_cpu_ms.every((x) => x >= 0) ? fc.first_call_cpu_ms.map((x, i) => x - fc.second_call_cpu_ms[i]) : null;
const first = fc && {
	n: fc.n,
	preload: meta.preload === 1,
	connect_first_call_ms_median: median(fc.connect_first_call_ms),
	first_call_ms_median: median(fc.first_call_ms),
	second_call_ms_median: fc.second_call_ms ? median(fc.second_call_ms) : null,
	first_minus_second_ms_median: diffs ? median(diffs) : null,
	first_minus_second_cpu_ms_median: cpuDiffs ? median(cpuDiffs) : null,
	first_call_minflt_median: fc.first_call_minflt ? median(fc.first_call_minflt) : null,
	connect_select1_ms_median: median(fc.connect_select1_ms),
	raw: fc,
};
const mr = byKind('memory')[0];
const modelBytes = meta.model_bytes || fs.statSync(path.join(MODEL, 'model.safetensors')).size;
const memory = mr && {
	backends: mr.backends,
	pss_before_mb: mr.pss_before_kb / 1024,
	pss_after_mb: mr.pss_after_kb / 1024,
	pss_added_mb: (mr.pss_after_kb - mr.pss_before_kb) / 1024,
	rss_added_mb: (mr.rss_after_kb - mr.rss_before_kb) / 1024,
	model_file_mb: modelBytes / 1048576,
	added_over_model: ((mr.pss_after_kb - mr.pss_before_kb) * 1024) / modelBytes,
	total_over_model: (mr.pss_after_kb * 1024) / modelBytes,
};
const p0 = byKind('parallel').find((r) => r.name === 'par0');
const p2 = byKind('parallel').find((r) => r.name === 'par2');
const parallel = p0 && p2 && {
	rows: p0.sentences,
	workers_planned: p2.workers_planned,
	serial_best_s: best(p0.times_s), serial_median_s: median(p0.times_s),
	parallel_best_s: best(p2.times_s), parallel_median_s: median(p2.times_s),
	serial_sps: p0.sentences / best(p0.times_s), parallel_sps: p2.sentences / best(p2.times_s),
	speedup_best: best(p0.times_s) / best(p2.times_s),
	speedup_median: median(p0.times_s) / median(p2.times_s),
};

// ---------------------------------------------------------------- targets
const targets = [];
const target = (name, value, shown, ok) => {
	const measured = typeof value === 'number' && isFinite(value);
	targets.push({ name, value: measured ? value : null, shown: measured ? shown : 'n/a', met: measured ? Boolean(ok) : null });
};
for (const env of envs) {
	const sec = sections[env];
	const tag = envs.length > 1 || env ? ` [${env}]` : '';
	for (const q of sec.ratios) target(`${q.name} ≥ ${q.goal} ×${tag}`, q.value, `${fmt(q.value, 2)} ×`, q.met);
	for (const k of ['sql_agg_fp32', 'sql_window_fp32']) {
		const r = sec.row(k);
		if (r) target(`batched SQL fp32 (${k.replace('sql_', '').replace('_fp32', '')}) ≥ 85% of the limit${tag}`, r.of_limit, r.of_limit !== null ? `${fmt(100 * r.of_limit)} %` : 'n/a', r.of_limit >= 0.85);
	}
	{
		// issue 22: fp32 batched at >= 85% of the FMA peak, counting the work sst2 does
		const r = sec.row('core_fp32_s32');
		const v = r && sec.fmaPeak ? (flops - skipped) / r.best_s / 1e9 / sec.fmaPeak : null;
		target(`core fp32 batched (sorted 32) ≥ 85% of the FMA peak, on the work it does${tag}`, v, `${fmt(100 * v)} %`, v >= 0.85);
	}
}
target(`first call − second call (same text, ${first && first.preload ? 'preloaded' : 'not preloaded'}, median) ≤ 5 ms`, first && first.first_minus_second_ms_median, first ? `${fmt(first.first_minus_second_ms_median)} ms (CPU ${fmt(first.first_minus_second_cpu_ms_median)} ms)` : 'n/a', first && first.first_minus_second_ms_median <= 5);
target('first call (connect + first sst2_classify, median) < 50 ms', first && first.connect_first_call_ms_median, first ? `${fmt(first.connect_first_call_ms_median)} ms` : 'n/a', first && first.connect_first_call_ms_median < 50);
target('8 backends add ≤ 1.2 × model file size in Pss', memory && memory.added_over_model, memory ? `${fmt(memory.added_over_model, 2)} ×` : 'n/a', memory && memory.added_over_model <= 1.2);
target('8 backends\' summed Pss ≤ 1.2 × model file size', memory && memory.total_over_model, memory ? `${fmt(memory.total_over_model, 2)} ×` : 'n/a', memory && memory.total_over_model <= 1.2);
{
	const npmBest = Math.max(...['npm_encode', 'npm_encodeBatch'].filter((k) => tok[k]).map((k) => tok[k].sps_best));
	const v = tok.ours && isFinite(npmBest) ? tok.ours.sps_best / npmBest : null;
	target('tokenizer ≥ npm tokenizers (its faster API)', v, v !== null ? `${fmt(v, 1)} ×` : 'n/a', v >= 1);
}
target('2 workers ≥ 1.8 × one', parallel && parallel.speedup_best, parallel ? `${fmt(parallel.speedup_best, 2)} ×` : 'n/a', parallel && parallel.speedup_best >= 1.8);

// ---------------------------------------------------------------- markdown
const md = [];
const p = (s = '') => md.push(s);
p(`### sst2 benchmark${meta.quick ? ' — QUICK smoke run (not representative)' : ''}`);
p();
p(`${meta.cpu_model || 'unknown CPU'}, ${meta.nproc} cores; everything except parallel scaling pinned to core ${meta.cpu} (\`taskset\`), OpenBLAS 1 thread; ${meta.date}, git ${meta.git}.`);
p(`Workload: ${N} SST-2 dev sentences (${tokens} tokens) on the full-size deterministic DistilBERT (${(modelBytes / 1e6).toFixed(0)} MB F32). Best and median of ${meta.reps} runs; ratios and % of limit use the best.`);
p();
p(`FLOPs: ${fmt(flops / 1e9, 2)} GFLOP = projections ${fmt(projF / 1e9, 1)} + FFN ${fmt(ffnF / 1e9, 1)} + attention scores/context ${fmt(attF / 1e9, 1)} + classifier ${fmt(clsF / 1e9, 3)}` +
	` (embeddings, LayerNorm, GELU, softmax, residuals not counted: ≈ ${fmt(otherF / 1e9, 2)} G elementwise ops, ${fmt((100 * otherF) / flops, 2)} %).`);
if (meta.cpu_flags) p(`CPU SIMD flags: ${meta.cpu_flags}.`);
p(`sst2 computes ${fmt((flops - skipped) / 1e9, 2)} GFLOP of these (${fmt((100 * skipped) / flops, 1)} % fewer: its last block carries only the [CLS] rows past attention), so its figures can pass 100 % of the limit; as a fraction of the limit on the work it does, multiply its % of limit by ${fmt((flops - skipped) / flops, 3)}. GFLOP/s counts the fp32-equivalent work for every precision.`);
p(`Load average at start ${meta.loadavg || 'n/a'}, at end ${metaEnd.loadavg || 'n/a'} (a busy machine makes every figure unreliable).`);
p();
for (const env of envs) {
	const sec = sections[env];
	const envText = env === 'user' ? 'OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (as users run it)'
		: env === 'pinned' ? `OPENBLAS_CORETYPE=${meta.pinned_coretype}${meta.pinned_l2_size ? `, OPENBLAS_L2_SIZE=${meta.pinned_l2_size}` : ''} (as this environment pins it)` : 'the calling environment';
	p(`#### Environment \`${env}\`: ${envText}`);
	p();
	p(`OpenBLAS core: **${sec.openblas_core || 'n/a'}**; sst2 ISA path ${sec.isa || 'n/a'}, kernels ${Object.entries(sec.kernels).map(([k, v]) => `${k} ${v}`).join(', ') || 'n/a'}` +
		(sec.server ? `; server environment: ${sec.server.postmaster_env || 'no OPENBLAS_* set'}${sec.server.preload ? ', sst2 preloaded' : ''}` : '') + '.');
	if (sec.ort_int8_ops) p(`ORT int8 graph after ORT's optimizations: ${Object.entries(sec.ort_int8_ops).map(([k, v]) => `${v} ${k}`).join(', ')}.`);
	if (sec.fmaPeak) p(`FMA peak (bench/fma_peak.c, ${sec.fmaIsa}, registers only): ${fmt(sec.fmaPeak)} GFLOP/s.`);
	if (sec.sgemmPeak) p(`sgemm peak (cblas_sgemm, 1 thread): ${sec.sgemm.map((x) => `${x.m}×${x.n}×${x.k}: ${fmt(x.gflops)}`).join('; ')} GFLOP/s.`);
	if (sec.peak) p(`Limit = FLOPs / ${fmt(sec.peak)} GFLOP/s (${sec.limitBy}) = ${fmt(sec.limitS, 2)} s = **${fmt(sec.limitSps)} sentences/s**.`);
	p();
	p('| peer ratio (best of runs) | measured | goal | |');
	p('| --- | ---: | ---: | --- |');
	for (const q of sec.ratios) p(`| ${q.name} | ${fmt(q.value, 2)} × | ${q.goal} × | ${q.met === null ? 'not measured' : q.met ? 'met' : '**not met**'} |`);
	p();
	p('| measurement | sentences/s (best) | median | × ORT fp32 b1 | × ORT fp32 s32 | × ORT int8 b1 | × ORT int8 s32 | GFLOP/s | % of limit |');
	p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const r of sec.rows) p(`| ${r.label} | ${fmt(r.sps_best)} | ${fmt(r.sps_median)} | ${fmt(r.vs_ort_fp32_b1, 2)} | ${fmt(r.vs_ort_fp32_s32, 2)} | ${fmt(r.vs_ort_int8_b1, 2)} | ${fmt(r.vs_ort_int8_s32, 2)} | ${fmt(r.gflops)} | ${fmt(r.of_limit === null ? null : 100 * r.of_limit)} % |`);
	const o = sec.ortRows;
	if (sec.limitSps) p(`| limit: FLOPs / ${sec.limitBy} | ${fmt(sec.limitSps)} | | ${o.fp32_b1 ? fmt(sec.limitSps / o.fp32_b1.sps_best, 2) : 'n/a'} | ${o.fp32_s32 ? fmt(sec.limitSps / o.fp32_s32.sps_best, 2) : 'n/a'} | | | ${fmt(sec.peak)} | 100 % |`);
	const overLimit = sec.rows.filter((r) => r.key.includes('fp32') && r.of_limit * (flops - skipped) / flops > 1);
	if (overLimit.length) p(`**Warning: ${overLimit.map((r) => r.label).join(', ')} ran faster than ${sec.limitBy} on the work they do: the machine was busy while it was measured; rerun on a quiet machine.**`);
	p();
	const ld = sec.sanity.max_abs_logit_diff;
	const sane = Object.entries(ld).filter(([, v]) => v !== null).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v.toExponential(2)}`);
	if (sec.sanity.sql_tokenize_mismatches !== undefined) sane.push(`SQL sst2_tokenize vs core ids: ${sec.sanity.sql_tokenize_mismatches} mismatches`);
	for (const [k, v] of Object.entries(sec.sanity.sql_vs_core_b1)) sane.push(`${k} vs core batch 1: ${v.label_disagreements} label disagreements, max score diff ${v.max_score_diff.toExponential(2)}`);
	if (sane.length) p(`Sanity (max |logit diff|): ${sane.join('; ')}.`);
	p();
}
if (tok.ours || tok.npm_encode) {
	p('| tokenizer (same texts, 1 thread) | sentences/s (best) | median | MB/s | ours × |');
	p('| --- | ---: | ---: | ---: | ---: |');
	if (tok.ours) p(`| ours: \`sst2_tokenize\` (C) | ${fmt(tok.ours.sps_best, 0)} | ${fmt(tok.ours.sps_median, 0)} | ${fmt(tok.ours.mb_s, 1)} | |`);
	for (const [k, name] of [['npm_encode', 'npm tokenizers 0.23.2: `await encode(text)` one at a time'], ['npm_encodeBatch', 'npm tokenizers 0.23.2: `encodeBatch(all)`']]) {
		if (tok[k]) p(`| ${name} | ${fmt(tok[k].sps_best, 0)} | ${fmt(tok[k].sps_median, 0)} | ${fmt(tok[k].mb_s, 1)} | ${tok.ours ? fmt(tok.ours.sps_best / tok[k].sps_best, 1) : 'n/a'} |`);
	}
	p();
}
if (first) p(`First call in a new backend (${first.preload ? 'sst2 preloaded' : 'not preloaded'}, median of ${first.n}): connect + first \`sst2_classify\` ${fmt(first.connect_first_call_ms_median)} ms; the first call alone ${fmt(first.first_call_ms_median)} ms, the second (same text) ${fmt(first.second_call_ms_median)} ms: first − second ${fmt(first.first_minus_second_ms_median)} ms wall, ${fmt(first.first_minus_second_cpu_ms_median)} ms of the backend's CPU, ${fmt(first.first_call_minflt_median, 0)} page faults; connect + \`SELECT 1\` ${fmt(first.connect_select1_ms_median)} ms.`);
if (memory) p(`Memory, ${memory.backends} backends: summed Pss ${fmt(memory.pss_before_mb)} MB connected → ${fmt(memory.pss_after_mb)} MB (${fmt(memory.total_over_model, 2)} × the ${fmt(memory.model_file_mb)} MiB model file) after one classification each: +${fmt(memory.pss_added_mb)} MB = ${fmt(memory.added_over_model, 2)} × the model (Rss +${fmt(memory.rss_added_mb)} MB).`);
if (parallel) p(`Parallel scaling (${parallel.rows} rows, unpinned, ${parallel.workers_planned} workers planned): 0 workers ${fmt(parallel.serial_sps)} sentences/s, 2 workers ${fmt(parallel.parallel_sps)} sentences/s: ${fmt(parallel.speedup_best, 2)} × (median ${fmt(parallel.speedup_median, 2)} ×).`);
p();
p('| target | measured | |');
p('| --- | ---: | --- |');
for (const t of targets) p(`| ${t.name} | ${t.shown} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`);
p();
const text = md.join('\n') + '\n';
fs.writeFileSync(path.join(OUT, 'results.md'), text);
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({
	meta, meta_end: metaEnd,
	workload: { sentences: N, tokens, model: MODEL, model_bytes: modelBytes, config: { dim: d, hidden_dim: h, n_layers: L, n_heads: H, n_labels: nl } },
	flops: { total: flops, computed_by_sst2: flops - skipped, projections: projF, ffn: ffnF, attention: attF, classifier: clsF, uncounted_elementwise_estimate: otherF },
	environments: Object.fromEntries(envs.map((e) => {
		const x = sections[e];
		return [e, { openblas_core: x.openblas_core, isa: x.isa, kernels: x.kernels, server: x.server, ort_int8_ops: x.ort_int8_ops,
			sgemm: x.sgemm, fma_peak_gflops: x.fmaPeak, limit: x.peak && { by: x.limitBy, peak_gflops: x.peak, seconds: x.limitS, sentences_per_s: x.limitSps },
			ratios: x.ratios, throughput: x.rows, sanity: x.sanity }];
	})),
	tokenizer: tok, first_call: first, memory, parallel, targets,
}, null, 1) + '\n');
process.stdout.write(text);
