#!/usr/bin/env node
// bench/ort.js: the ONNX Runtime peer (onnxruntime-node from test/oracle).
//
//   node bench/ort.js MODEL.onnx IDS_FILE [--mode b1|s32|sN]... [--reps R] [--logits PREFIX]
//                     [--optimized OUT.onnx] [--label NAME]
//
// IDS_FILE has one sentence per line as space-separated token ids (what
// bench_core --ids writes), so tokenization is not part of the timing.
// Modes: b1 = one sentence per run in file order; sN = length-sorted batches
// of N, padded with [PAD]=0 and attention_mask 0.  One thread (intra/inter op
// 1, sequential execution, all graph optimizations).  Pin the process
// yourself (taskset -c 1).  Prints one JSON object per measurement; logits
// (file order) go to PREFIX.MODE.txt.  --optimized writes the graph ONNX Runtime
// runs after its optimizations (to check which kernels it fused, e.g.
// DynamicQuantizeMatMul for the int8 model); --label names the model in the
// JSON ("fp32", "int8").
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'test', 'oracle', 'node_modules', 'onnxruntime-node'));

function usage() {
	console.error('usage: node bench/ort.js MODEL.onnx IDS_FILE [--mode b1|sN]... [--reps R] [--logits PREFIX] [--optimized OUT.onnx] [--label NAME]');
	process.exit(2);
}

async function main() {
	const args = process.argv.slice(2);
	if (args.length < 2) usage();
	const [modelPath, idsPath] = args;
	const modes = [];
	let reps = 3, logitsPrefix = null, optimized = null, label = 'fp32';
	for (let i = 2; i < args.length; i++) {
		if (args[i] === '--mode' && i + 1 < args.length) modes.push(args[++i]);
		else if (args[i] === '--reps' && i + 1 < args.length) reps = parseInt(args[++i], 10);
		else if (args[i] === '--logits' && i + 1 < args.length) logitsPrefix = args[++i];
		else if (args[i] === '--optimized' && i + 1 < args.length) optimized = args[++i];
		else if (args[i] === '--label' && i + 1 < args.length) label = args[++i];
		else usage();
	}
	if (modes.length === 0) modes.push('b1', 's32');

	const seqs = fs.readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.length > 0)
		.map((l) => l.trim().split(/\s+/).map(Number));
	const tokens = seqs.reduce((a, s) => a + s.length, 0);

	const t0 = process.hrtime.bigint();
	const options = {
		intraOpNumThreads: 1,
		interOpNumThreads: 1,
		executionMode: 'sequential',
		graphOptimizationLevel: 'all',
	};
	if (optimized) options.optimizedModelFilePath = optimized;
	const session = await ort.InferenceSession.create(modelPath, options);
	const openS = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(JSON.stringify({ kind: 'ort_open', model: label, seconds: openS, inputs: session.inputNames, outputs: session.outputNames }));
	const useMask = session.inputNames.includes('attention_mask');

	// Batches for a mode: arrays of sentence indices.
	function batches(mode) {
		const order = seqs.map((_, i) => i);
		let b;
		if (mode === 'b1') b = 1;
		else if (/^s\d+$/.test(mode)) {
			b = parseInt(mode.slice(1), 10);
			order.sort((x, y) => seqs[x].length - seqs[y].length || x - y);
		} else if (/^\d+$/.test(mode)) b = parseInt(mode, 10);
		else throw new Error(`unknown mode ${mode}`);
		const out = [];
		for (let i = 0; i < order.length; i += b) out.push(order.slice(i, i + b));
		return out;
	}

	// Pre-build the feeds (not timed).
	function feeds(batch) {
		const L = Math.max(...batch.map((i) => seqs[i].length));
		const ids = new BigInt64Array(batch.length * L);
		const mask = new BigInt64Array(batch.length * L);
		batch.forEach((si, r) => {
			const s = seqs[si];
			for (let j = 0; j < s.length; j++) {
				ids[r * L + j] = BigInt(s[j]);
				mask[r * L + j] = 1n;
			}
		});
		const f = { input_ids: new ort.Tensor('int64', ids, [batch.length, L]) };
		if (useMask) f.attention_mask = new ort.Tensor('int64', mask, [batch.length, L]);
		return f;
	}

	for (const mode of modes) {
		const bs = batches(mode);
		const fs_ = bs.map(feeds);
		const padded = bs.reduce((a, b) => a + b.length * Math.max(...b.map((i) => seqs[i].length)), 0);
		const logits = new Array(seqs.length);
		const outs = new Array(bs.length);
		// warm-up: the largest batch and the first one
		let big = 0;
		fs_.forEach((f, i) => { if (f.input_ids.size > fs_[big].input_ids.size) big = i; });
		await session.run(fs_[big]);
		await session.run(fs_[0]);
		const times = [];
		for (let r = 0; r < reps; r++) {
			const s0 = process.hrtime.bigint();
			for (let i = 0; i < bs.length; i++) {
				outs[i] = await session.run(fs_[i]);
			}
			times.push(Number(process.hrtime.bigint() - s0) / 1e9);
		}
		outs.forEach((out, i) => {
			const d = out.logits.data, nl = out.logits.dims[1];
			bs[i].forEach((si, k) => { logits[si] = Array.from(d.slice(k * nl, (k + 1) * nl)); });
		});
		const sorted = [...times].sort((a, b) => a - b);
		console.log(JSON.stringify({
			kind: 'ort_forward', model: label, mode, sentences: seqs.length, tokens, padded_tokens: padded,
			best_s: sorted[0], median_s: sorted[Math.floor(sorted.length / 2)], times_s: times,
		}));
		if (logitsPrefix) fs.writeFileSync(`${logitsPrefix}.${mode}.txt`, logits.map((l) => l.map((x) => x.toPrecision(9)).join(' ')).join('\n') + '\n');
	}
}

main().catch((e) => { console.error(e); process.exit(1); });
