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

// ---------------------------------------------------------------- sgemm peak and the limit
// sgemm was measured twice (start and end of the run): keep the best of each shape
const sgemm = [];
for (const s of byKind('sgemm')) {
	const o = sgemm.find((x) => x.m === s.m && x.n === s.n && x.k === s.k);
	if (!o) sgemm.push({ ...s, runs: [s.gflops] });
	else {
		o.runs.push(s.gflops);
		if (s.gflops > o.gflops) Object.assign(o, { ...s, runs: o.runs });
	}
}
const metaEnd = byKind('meta_end')[0] || {};
const peak = sgemm.length ? Math.max(...sgemm.map((s) => s.gflops)) : null;
const limitS = peak ? flops / (peak * 1e9) : null;
const limitSps = limitS ? N / limitS : null;

// ---------------------------------------------------------------- throughput rows
const rows = [];
const addRow = (key, label, r, n = N) => {
	if (!r) return;
	const times = r.times_s;
	rows.push({ key, label, sentences: n, best_s: best(times), median_s: median(times), times_s: times });
};
for (const r of byKind('core_forward')) {
	const label = r.sorted ? `core library, length-sorted batches of ${r.batch}` : r.batch === 1 ? 'core library, batch 1' : `core library, batches of ${r.batch} (file order)`;
	addRow(`core_${r.spec}`, label, r);
}
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
for (const k of Object.keys(sqlLabels)) {
	const r = byKind('sql').find((x) => x.name === k);
	addRow(k, sqlLabels[k] + (r && k !== 'sql_row' ? `, sst2.batch_size ${r.batch_size}` : ''), r);
}
const ortRows = {};
for (const r of byKind('ort_forward')) {
	const label = r.mode === 'b1' ? 'ONNX Runtime, batch 1' : `ONNX Runtime, length-sorted batches of ${r.mode.slice(1)} (padded)`;
	addRow(`ort_${r.mode}`, label, r);
	ortRows[r.mode] = rows[rows.length - 1];
}
for (const r of rows) {
	r.sps_best = r.sentences / r.best_s;
	r.sps_median = r.sentences / r.median_s;
}
for (const r of rows) {
	r.gflops = flops / r.best_s / 1e9;
	r.vs_ort_b1 = ortRows.b1 ? r.sps_best / ortRows.b1.sps_best : null;
	r.vs_ort_s32 = ortRows.s32 ? r.sps_best / ortRows.s32.sps_best : null;
	r.of_limit = limitS ? limitS / r.best_s : null;
}
const row = (k) => rows.find((r) => r.key === k);

// ---------------------------------------------------------------- sanity: logits, ids, SQL labels
const sanity = {};
const readLogits = (f) => { const l = readLines(f); return l && l.map((x) => x.trim().split(/\s+/).map(Number)); };
const maxDiff = (a, b) => {
	if (!a || !b || a.length !== b.length) return null;
	let m = 0;
	a.forEach((r, i) => r.forEach((x, j) => { m = Math.max(m, Math.abs(x - b[i][j])); }));
	return m;
};
const core1 = readLogits(path.join(T, 'core.1.txt'));
const core64 = readLogits(path.join(T, 'core.64.txt'));
const cores32 = readLogits(path.join(T, 'core.s32.txt'));
const ortb1 = readLogits(path.join(T, 'ort.b1.txt'));
const orts32 = readLogits(path.join(T, 'ort.s32.txt'));
sanity.max_abs_logit_diff = {
	ort_b1_vs_core_b1: maxDiff(ortb1, core1),
	ort_s32_vs_core_s32: maxDiff(orts32, cores32),
	ort_s32_vs_ort_b1: maxDiff(orts32, ortb1),
	core_64_vs_core_b1: maxDiff(core64, core1),
	core_s32_vs_core_b1: maxDiff(cores32, core1),
};
const sqlIds = readLines(path.join(T, 'sql.ids'));
if (sqlIds) {
	const ours = readLines(path.join(T, 'dev.ids'));
	sanity.sql_tokenize_mismatches = ours.filter((l, i) => l.trim() !== (sqlIds[i] || '').trim()).length;
}
// verdicts from SQL output vs the core's batch-1 logits
const ref = (core1 || ortb1 || []).map((lg) => {
	const m = Math.max(...lg), e = lg.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b, 0);
	const top = lg.indexOf(m);
	return { label: labels[top], score: e[top] / s };
});
const parseVerdicts = (f) => {
	if (!fs.existsSync(f)) return null;
	const out = [];
	const re = /\(([^,()"]+),([^()"]+)\)/g;
	let m;
	const s = fs.readFileSync(f, 'utf8');
	while ((m = re.exec(s)) !== null) out.push({ label: m[1], score: Number(m[2]) });
	return out;
};
sanity.sql_vs_core_b1 = {};
if (ref.length) {
	for (const k of ['sql_row', 'sql_agg', 'sql_window', 'sql_batchfn']) {
		const v = parseVerdicts(path.join(T, `${k}.out`));
		if (!v) continue;
		let dis = 0, md = 0;
		v.forEach((x, i) => {
			if (!ref[i] || x.label !== ref[i].label) dis++;
			else md = Math.max(md, Math.abs(x.score - ref[i].score));
		});
		sanity.sql_vs_core_b1[k] = { rows: v.length, expected: N, label_disagreements: dis + Math.abs(N - v.length), max_score_diff: md };
	}
}

// ---------------------------------------------------------------- tokenizer, first call, memory, parallel
const tok = {};
const ct = byKind('core_tokenize')[0];
if (ct) tok.ours = { sps_best: (ct.sentences * ct.iters) / ct.best_s, sps_median: (ct.sentences * ct.iters) / ct.median_s, mb_s: (ct.bytes * ct.iters) / ct.best_s / 1e6 };
for (const k of ['npm_tokenize_encode', 'npm_tokenize_encodeBatch']) {
	const r = byKind(k)[0];
	if (r) tok[k.replace('npm_tokenize_', 'npm_')] = { sps_best: (r.sentences * r.iters) / r.best_s, sps_median: (r.sentences * r.iters) / r.median_s, mb_s: (r.bytes * r.iters) / r.best_s / 1e6, id_mismatches_vs_ours: r.mismatches };
}
const fc = byKind('first_call')[0];
const first = fc && {
	n: fc.n,
	connect_first_call_ms_median: median(fc.connect_first_call_ms),
	first_call_ms_median: median(fc.first_call_ms),
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
for (const k of ['sql_agg', 'sql_window']) {
	const r = row(k);
	target(`batched SQL (${k.replace('sql_', '')}) ≥ 1.2 × ORT sorted batch 32`, r && r.vs_ort_s32, r && r.vs_ort_s32 !== null ? `${fmt(r.vs_ort_s32, 2)} ×` : 'n/a', r && r.vs_ort_s32 >= 1.2);
	target(`batched SQL (${k.replace('sql_', '')}) ≥ 85% of the sgemm limit`, r && r.of_limit, r && r.of_limit !== null ? `${fmt(100 * r.of_limit)} %` : 'n/a', r && r.of_limit >= 0.85);
}
{
	const r = row('sql_row');
	target('per-row SQL ≥ ORT batch 1', r && r.vs_ort_b1, r && r.vs_ort_b1 !== null ? `${fmt(r.vs_ort_b1, 2)} ×` : 'n/a', r && r.vs_ort_b1 >= 1.0);
}
target('first call (connect + first sst2_classify, median) < 50 ms', first && first.connect_first_call_ms_median, first ? `${fmt(first.connect_first_call_ms_median)} ms` : 'n/a', first && first.connect_first_call_ms_median < 50);
target('8 backends add ≤ 1.2 × model file size in Pss', memory && memory.added_over_model, memory ? `${fmt(memory.added_over_model, 2)} ×` : 'n/a', memory && memory.added_over_model <= 1.2);
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
if (peak) {
	p(`sgemm peak (cblas_sgemm, 1 thread): ${sgemm.map((s) => `${s.m}×${s.n}×${s.k}: ${fmt(s.gflops)}`).join('; ')} GFLOP/s.`);
	p(`Limit = FLOPs / ${fmt(peak)} GFLOP/s = ${fmt(limitS, 2)} s = **${fmt(limitSps)} sentences/s**.`);
}
p(`sst2 computes ${fmt((flops - skipped) / 1e9, 2)} GFLOP of these (${fmt((100 * skipped) / flops, 1)} % fewer: its last block carries only the [CLS] rows past attention), so its figures can pass 100 % of this limit; as a fraction of the sgemm peak on the work it does, multiply its % of limit by ${fmt((flops - skipped) / flops, 3)}.`);
const overLimit = rows.filter((r) => r.of_limit * (flops - skipped) / flops > 1);
if (overLimit.length) p(`**Warning: ${overLimit.map((r) => r.label).join(', ')} ran faster than the sgemm peak on the work they do: the machine was busy while sgemm was measured; rerun on a quiet machine.**`);
p(`Load average at start ${meta.loadavg || 'n/a'}, at end ${metaEnd.loadavg || 'n/a'} (a busy machine makes every figure unreliable).`);
p();
p('| measurement | sentences/s (best) | median | × ORT batch 1 | × ORT sorted 32 | GFLOP/s | % of limit |');
p('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) p(`| ${r.label} | ${fmt(r.sps_best)} | ${fmt(r.sps_median)} | ${fmt(r.vs_ort_b1, 2)} | ${fmt(r.vs_ort_s32, 2)} | ${fmt(r.gflops)} | ${fmt(r.of_limit === null ? null : 100 * r.of_limit)} % |`);
if (limitSps) p(`| limit: FLOPs / sgemm peak | ${fmt(limitSps)} | | ${ortRows.b1 ? fmt(limitSps / ortRows.b1.sps_best, 2) : 'n/a'} | ${ortRows.s32 ? fmt(limitSps / ortRows.s32.sps_best, 2) : 'n/a'} | ${fmt(peak)} | 100 % |`);
p();
if (tok.ours || tok.npm_encode) {
	p('| tokenizer (same texts, 1 thread) | sentences/s (best) | median | MB/s | ours × |');
	p('| --- | ---: | ---: | ---: | ---: |');
	if (tok.ours) p(`| ours: \`sst2_tokenize\` (C) | ${fmt(tok.ours.sps_best, 0)} | ${fmt(tok.ours.sps_median, 0)} | ${fmt(tok.ours.mb_s, 1)} | |`);
	for (const [k, name] of [['npm_encode', 'npm tokenizers 0.23.2: `await encode(text)` one at a time'], ['npm_encodeBatch', 'npm tokenizers 0.23.2: `encodeBatch(all)`']]) {
		if (tok[k]) p(`| ${name} | ${fmt(tok[k].sps_best, 0)} | ${fmt(tok[k].sps_median, 0)} | ${fmt(tok[k].mb_s, 1)} | ${tok.ours ? fmt(tok.ours.sps_best / tok[k].sps_best, 1) : 'n/a'} |`);
	}
	p();
}
if (first) p(`First call in a new backend (median of ${first.n}): connect + first \`sst2_classify\` ${fmt(first.connect_first_call_ms_median)} ms (the call alone ${fmt(first.first_call_ms_median)} ms; connect + \`SELECT 1\` ${fmt(first.connect_select1_ms_median)} ms).`);
if (memory) p(`Memory, ${memory.backends} backends: summed Pss ${fmt(memory.pss_before_mb)} MB connected → ${fmt(memory.pss_after_mb)} MB after one classification each: +${fmt(memory.pss_added_mb)} MB = ${fmt(memory.added_over_model, 2)} × the ${fmt(memory.model_file_mb)} MiB model file (Rss +${fmt(memory.rss_added_mb)} MB).`);
if (parallel) p(`Parallel scaling (${parallel.rows} rows, unpinned, ${parallel.workers_planned} workers planned): 0 workers ${fmt(parallel.serial_sps)} sentences/s, 2 workers ${fmt(parallel.parallel_sps)} sentences/s: ${fmt(parallel.speedup_best, 2)} × (median ${fmt(parallel.speedup_median, 2)} ×).`);
p();
p('| target | measured | |');
p('| --- | ---: | --- |');
for (const t of targets) p(`| ${t.name} | ${t.shown} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`);
p();
const ld = sanity.max_abs_logit_diff;
const sane = [];
if (ld.ort_b1_vs_core_b1 !== null) sane.push(`max |logit diff| ORT vs ours: batch 1 ${ld.ort_b1_vs_core_b1.toExponential(2)}, sorted 32 ${ld.ort_s32_vs_core_s32 === null ? 'n/a' : ld.ort_s32_vs_core_s32.toExponential(2)}`);
if (ld.ort_s32_vs_ort_b1 !== null) sane.push(`ORT sorted 32 (padded) vs ORT batch 1 ${ld.ort_s32_vs_ort_b1.toExponential(2)}`);
if (ld.core_64_vs_core_b1 !== null) sane.push(`ours batch 64 vs batch 1 ${ld.core_64_vs_core_b1.toExponential(2)}, sorted 32 vs batch 1 ${ld.core_s32_vs_core_b1 === null ? 'n/a' : ld.core_s32_vs_core_b1.toExponential(2)}`);
if (sanity.sql_tokenize_mismatches !== undefined) sane.push(`SQL sst2_tokenize vs core ids: ${sanity.sql_tokenize_mismatches} mismatches`);
for (const [k, v] of Object.entries(sanity.sql_vs_core_b1)) sane.push(`${k} vs core batch 1: ${v.label_disagreements} label disagreements, max score diff ${v.max_score_diff.toExponential(2)}`);
if (tok.npm_encode) sane.push(`npm tokenizers ids vs ours: ${tok.npm_encode.id_mismatches_vs_ours} mismatches`);
if (sane.length) p(`Sanity: ${sane.join('; ')}.`);

const text = md.join('\n') + '\n';
fs.writeFileSync(path.join(OUT, 'results.md'), text);
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({
	meta, meta_end: metaEnd,
	workload: { sentences: N, tokens, model: MODEL, model_bytes: modelBytes, config: { dim: d, hidden_dim: h, n_layers: L, n_heads: H, n_labels: nl } },
	flops: { total: flops, computed_by_sst2: flops - skipped, projections: projF, ffn: ffnF, attention: attF, classifier: clsF, uncounted_elementwise_estimate: otherF },
	sgemm, limit: peak && { peak_gflops: peak, seconds: limitS, sentences_per_s: limitSps },
	throughput: rows, tokenizer: tok, first_call: first, memory, parallel, sanity, targets,
}, null, 1) + '\n');
process.stdout.write(text);
