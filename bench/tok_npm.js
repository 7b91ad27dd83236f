#!/usr/bin/env node
// bench/tok_npm.js: tokenizer throughput of the npm `tokenizers` package
// (Hugging Face tokenizers 0.23.2, Rust core) on the same texts as ours.
//
//   node bench/tok_npm.js TOKENIZER_JSON SENTENCES IDS_FILE [--iters N] [--reps R]
//
// Times `await tok.encode(text)` + getIds() one text at a time, and
// `await tok.encodeBatch(all texts)` + getIds() of each, N passes over the
// texts per repetition.  Run it with RAYON_NUM_THREADS=1 and
// UV_THREADPOOL_SIZE=1 (one thread) and pinned (taskset -c 1).  Checks the ids
// against IDS_FILE (ours) and prints one JSON object per measurement.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '..', 'test', 'oracle', 'node_modules', 'tokenizers'));

async function main() {
	const a = process.argv.slice(2);
	if (a.length < 3) {
		console.error('usage: node bench/tok_npm.js TOKENIZER_JSON SENTENCES IDS_FILE [--iters N] [--reps R]');
		process.exit(2);
	}
	let iters = 10, reps = 3;
	for (let i = 3; i < a.length; i++) {
		if (a[i] === '--iters') iters = parseInt(a[++i], 10);
		else if (a[i] === '--reps') reps = parseInt(a[++i], 10);
		else { console.error(`unknown option ${a[i]}`); process.exit(2); }
	}
	const texts = fs.readFileSync(a[1], 'utf8').split('\n');
	if (texts[texts.length - 1] === '') texts.pop();
	const ours = fs.readFileSync(a[2], 'utf8').split('\n').filter((l) => l.length).map((l) => l.trim());
	const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
	const tok = Tokenizer.fromFile(a[0]);

	// correctness: same ids as ours
	let mismatches = 0;
	for (let i = 0; i < texts.length; i++) {
		const ids = (await tok.encode(texts[i])).getIds().join(' ');
		if (ids !== ours[i]) mismatches++;
	}

	const stat = (kind, times, extra) => {
		const s = [...times].sort((x, y) => x - y);
		console.log(JSON.stringify({
			kind, sentences: texts.length, iters, bytes, mismatches, ...extra,
			best_s: s[0], median_s: s[Math.floor(s.length / 2)], times_s: times,
		}));
	};

	let check = 0;
	const one = [];
	for (let r = 0; r < reps; r++) {
		const t0 = process.hrtime.bigint();
		for (let it = 0; it < iters; it++)
			for (const t of texts) check += (await tok.encode(t)).getIds().length;
		one.push(Number(process.hrtime.bigint() - t0) / 1e9);
	}
	stat('npm_tokenize_encode', one, { check });

	check = 0;
	const batch = [];
	for (let r = 0; r < reps; r++) {
		const t0 = process.hrtime.bigint();
		for (let it = 0; it < iters; it++)
			for (const e of await tok.encodeBatch(texts)) check += e.getIds().length;
		batch.push(Number(process.hrtime.bigint() - t0) / 1e9);
	}
	stat('npm_tokenize_encodeBatch', batch, { check });
}

main().catch((e) => { console.error(e); process.exit(1); });
