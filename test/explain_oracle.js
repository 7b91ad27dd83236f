#!/usr/bin/env node
/*
 * explain_oracle.js
 *	  The independent computation sst2_explain is tested against: Hugging
 *	  Face tokenizers (npm tokenizers) for the words and their offsets, ONNX
 *	  Runtime (onnxruntime-node) for the model, both from test/oracle.
 *
 *	  node test/explain_oracle.js MODEL.onnx TOKENIZER.json MAX_LENGTH < texts > out
 *	    stdin: one JSON string a line; stdout: one JSON object a line,
 *	    {"text", "words": [{"ord", "word", "attribution"}]}
 *
 *	  For each text: ids with truncation to MAX_LENGTH; L = argmax of the
 *	  logits, p = softmax; for each word id among the kept pieces, the same
 *	  ids without that word's pieces; attribution = p(L) - p'(L).  The word
 *	  is the text's substring at the word's character offsets (first piece's
 *	  start, last piece's end of the untruncated encoding).  Every sequence
 *	  runs on its own (batch 1, no padding).
 */
'use strict';
const fs = require('fs');
const path = require('path');
const oracle = path.join(__dirname, 'oracle', 'node_modules');
const tk = require(path.join(oracle, 'tokenizers'));
const ort = require(path.join(oracle, 'onnxruntime-node'));

/* softmax in double, the maximum subtracted */
function softmax(l)
{
	const m = Math.max(...l);
	const e = l.map(x => Math.exp(x - m));
	const s = e.reduce((a, b) => a + b, 0);
	return e.map(x => x / s);
}

async function main()
{
	const [modelPath, tokPath, maxLenArg] = process.argv.slice(2);
	if (!modelPath || !tokPath || !maxLenArg)
	{
		console.error('usage: node test/explain_oracle.js MODEL.onnx TOKENIZER.json MAX_LENGTH < texts');
		process.exit(2);
	}
	const maxLen = parseInt(maxLenArg, 10);
	const full = tk.Tokenizer.fromFile(tokPath);
	const cut = tk.Tokenizer.fromFile(tokPath);
	cut.setTruncation(maxLen);
	const session = await ort.InferenceSession.create(modelPath, {
		intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
	});
	const useMask = session.inputNames.includes('attention_mask');
	async function logits(ids)
	{
		const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) };
		if (useMask)
			feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
		const out = await session.run(feeds);
		return Array.from(out[session.outputNames[0]].data);
	}

	const texts = fs.readFileSync(0, 'utf8').split('\n').filter(l => l.length > 0).map(l => JSON.parse(l));
	for (const text of texts)
	{
		const e = await cut.encode(text);
		const ef = await full.encode(text);
		const ids = Array.from(e.getIds());
		const wids = e.getWordIds();
		const fw = ef.getWordIds(), fo = ef.getOffsets();
		const p = softmax(await logits(ids));
		const L = p.indexOf(Math.max(...p));
		const chars = Array.from(text);
		const words = [];
		const seen = new Set();
		for (let k = 0; k < ids.length; k++)
		{
			const w = wids[k];
			if (w === null || w === undefined || seen.has(w))
				continue;
			seen.add(w);
			const kept = ids.filter((_, j) => wids[j] !== w);
			const q = softmax(await logits(kept));
			/* the whole word's offsets, from the untruncated encoding */
			const pieces = fw.map((x, j) => (x === w ? j : -1)).filter(j => j >= 0);
			const start = fo[pieces[0]][0], end = fo[pieces[pieces.length - 1]][1];
			words.push({ ord: words.length + 1, word: chars.slice(start, end).join(''), attribution: p[L] - q[L] });
		}
		process.stdout.write(JSON.stringify({ text, words }) + '\n');
	}
}

main().catch(err => { console.error(err); process.exit(1); });
