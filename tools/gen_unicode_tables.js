#!/usr/bin/env node
/*
 * gen_unicode_tables.js
 *	  Derive, from the Hugging Face tokenizers library itself, every per-code-point
 *	  decision the BERT normalizer and pre-tokenizer make, and write them as C
 *	  tables to src/unicode_tables.c.
 *
 *	  Usage (from the repository root):
 *	    (cd test/oracle && npm ci --ignore-scripts)
 *	    node tools/gen_unicode_tables.js [OUT.c]      # default src/unicode_tables.c
 *
 *	  Each of the 1,112,064 scalar values is put through the oracle's own
 *	  normalizer / pre-tokenizer objects, one step at a time:
 *	    clean_text only         -> REMOVE (dropped), CLEAN_WS (becomes ' ') or kept
 *	    handle_chinese_chars    -> CHINESE (padded with spaces)
 *	    NFD                     -> the full canonical decomposition (table)
 *	    strip_accents only      -> MN (a nonspacing mark, dropped after NFD)
 *	    lowercase only          -> the to_lowercase mapping (table)
 *	    pre-tokenizer           -> PUNCT (isolated) / whitespace (split)
 *	    NFD of "a"+U+0345+c and "a"+c+U+0316 -> CCC (nonzero combining class)
 *	  So the C side depends on utf8proc only for the value of a nonzero
 *	  canonical combining class (used to order surviving marks after NFD).
 *	  Invariants the C code relies on are checked here and abort generation.
 */
'use strict';
const path = require('path');
const fs = require('fs');
const oraclePath = path.join(__dirname, '..', 'test', 'oracle', 'node_modules', 'tokenizers');
const tk = require(oraclePath);
const version = require(path.join(oraclePath, 'package.json')).version;

const out = process.argv[2] || path.join(__dirname, '..', 'src', 'unicode_tables.c');

const F_REMOVE = 0x01, F_CLEAN_WS = 0x02, F_CHINESE = 0x04, F_MN = 0x08,
	F_PUNCT = 0x10, F_NFD = 0x20, F_LOWER = 0x40, F_CCC = 0x80;
const NAMES = { REMOVE: F_REMOVE, CLEAN_WS: F_CLEAN_WS, CHINESE: F_CHINESE, MN: F_MN,
	PUNCT: F_PUNCT, NFD: F_NFD, LOWER: F_LOWER, CCC: F_CCC };

const nClean = tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const nChinese = tk.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false });
const nStrip = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const nLower = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true });
const nNfd = tk.nfdNormalizer();
const pre = tk.bertPreTokenizer();

const cps = s => Array.from(s, ch => ch.codePointAt(0));
const hex = c => 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
function die(msg) { console.error('gen_unicode_tables: ' + msg); process.exit(1); }

const MAXCP = 0x110000;
const flags = new Uint8Array(MAXCP);
const nfd = new Map();			/* cp -> [cps] (non-Hangul, nfd != self) */
const lower = new Map();		/* cp -> [cps] (lower != self) */
const preWs = new Uint8Array(MAXCP);
const S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7, N_COUNT = 588, T_COUNT = 28;

const t0 = Date.now();
for (let c = 0; c < MAXCP; c++)
{
	if (c >= 0xD800 && c < 0xE000)
		continue;
	const s = String.fromCodePoint(c);
	let f = 0;

	const cl = nClean.normalizeString(s);
	if (cl === '') f |= F_REMOVE;
	else if (cl === ' ' && c !== 0x20) f |= F_CLEAN_WS;
	else if (c === 0x20) f |= F_CLEAN_WS;
	else if (cl !== s) die(`clean_text(${hex(c)}) is neither "", " " nor itself`);

	const ch = nChinese.normalizeString(s);
	if (ch === ' ' + s + ' ') f |= F_CHINESE;
	else if (ch !== s) die(`chinese(${hex(c)}) unexpected`);

	const d = nNfd.normalizeString(s);
	if (d !== s)
	{
		f |= F_NFD;
		if (c >= S_BASE && c < S_BASE + 11172)
		{
			const si = c - S_BASE;
			const exp = [L_BASE + Math.floor(si / N_COUNT), V_BASE + Math.floor((si % N_COUNT) / T_COUNT)];
			if (si % T_COUNT) exp.push(T_BASE + si % T_COUNT);
			if (cps(d).join() !== exp.join()) die(`Hangul ${hex(c)} is not algorithmic`);
		}
		else
			nfd.set(c, cps(d));
	}
	else
	{
		/* nonspacing mark: strip_accents drops it */
		const st = nStrip.normalizeString(s);
		if (st === '') f |= F_MN;
		else if (st !== s) die(`strip(${hex(c)}) unexpected`);
		/* nonzero canonical combining class (only needed for undecomposed chars) */
		const a = 'a\u0345' + s, b = 'a' + s + '\u0316';
		if (nNfd.normalizeString(a) !== a || nNfd.normalizeString(b) !== b)
			f |= F_CCC;
	}

	const lo = nLower.normalizeString(s);
	if (lo !== s)
	{
		f |= F_LOWER;
		lower.set(c, cps(lo));
	}

	const p = pre.preTokenizeString('a' + s + 'a').map(x => x[0]);
	if (p.length === 3 && p[1] === s) f |= F_PUNCT;
	else if (p.length === 2 && p[0] === 'a' && p[1] === 'a') preWs[c] = 1;
	else if (!(p.length === 1 && p[0] === 'a' + s + 'a')) die(`pre-tokenizer(${hex(c)}) unexpected: ${JSON.stringify(p)}`);

	flags[c] = f;
}
console.error(`probed all code points in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/* ---- check the invariants tokenizer.c relies on */
const isKept = c => !(flags[c] & (F_REMOVE | F_CLEAN_WS));
for (let c = 0; c < MAXCP; c++)
{
	if (preWs[c] && isKept(c))
		die(`${hex(c)} is pre-tokenizer whitespace but survives clean_text`);
	if ((flags[c] & F_CCC) && (flags[c] & (F_PUNCT | F_REMOVE | F_CLEAN_WS)))
		die(`${hex(c)} has a combining class and is punctuation/removed/space`);
}
function checkOutputs(c, list, what)
{
	for (const x of list)
	{
		if (preWs[x]) die(`${what}(${hex(c)}) contains whitespace ${hex(x)}`);
		if (x >= 0xD800 && x < 0xE000) die(`${what}(${hex(c)}) contains a surrogate`);
	}
}
let maxNfd = 0, maxLower = 0;
for (const [c, d] of nfd)
{
	if (isKept(c))
		checkOutputs(c, d, 'nfd');
	maxNfd = Math.max(maxNfd, d.length);
	for (const x of d)
		if (flags[x] & F_NFD) die(`nfd(${hex(c)}) is not fully decomposed`);
	/* strip_accents of c must equal its NFD minus MN chars */
	const exp = d.filter(x => !(flags[x] & F_MN));
	const got = cps(nStrip.normalizeString(String.fromCodePoint(c)));
	if (got.join() !== exp.join())
	{
		/* canonical reordering inside a single decomposition is already done by nfd */
		die(`strip(${hex(c)}) = ${got.map(hex)} but nfd minus MN = ${exp.map(hex)}`);
	}
}
for (const [c, l] of lower)
{
	if (isKept(c))
		checkOutputs(c, l, 'lower');
	maxLower = Math.max(maxLower, l.length);
}
/* lowercase output is not decomposed again (lowercase runs after NFD) and the
 * chars it yields are classified by the pre-tokenizer table: fine. */

/* ---- statistics: ranges per property */
function countRanges(pred)
{
	let n = 0, prev = false;
	for (let c = 0; c < MAXCP; c++)
	{
		const v = pred(c);
		if (v && !prev) n++;
		prev = v;
	}
	return n;
}
const stats = [];
for (const [name, bit] of Object.entries(NAMES))
	stats.push(`${name} ${countRanges(c => (flags[c] & bit) !== 0)}`);
console.error('ranges: ' + stats.join(', '));
console.error(`nfd entries ${nfd.size} (+11172 Hangul), lower entries ${lower.size}`);

/* ---- two-stage lookup table */
const BLOCK = 128;
const blocks = [], blockIndex = new Map(), stage1 = [];
for (let b = 0; b < MAXCP / BLOCK; b++)
{
	const key = Buffer.from(flags.subarray(b * BLOCK, (b + 1) * BLOCK)).toString('latin1');
	let idx = blockIndex.get(key);
	if (idx === undefined)
	{
		idx = blocks.length;
		blocks.push(flags.subarray(b * BLOCK, (b + 1) * BLOCK));
		blockIndex.set(key, idx);
	}
	stage1.push(idx);
}
console.error(`${blocks.length} distinct blocks of ${BLOCK}`);

/* ---- mapping tables: sorted cp, offset/length into a pool */
function mapTable(name, map)
{
	const keys = [...map.keys()].sort((a, b) => a - b);
	const pool = [];
	const rows = [];
	for (const k of keys)
	{
		const v = map.get(k);
		rows.push(`{0x${k.toString(16)}, ${pool.length}, ${v.length}}`);
		pool.push(...v);
	}
	return { keys, rows, pool, name };
}
const tn = mapTable('nfd', nfd), tl = mapTable('lower', lower);

function wrap(items, perLine)
{
	const lines = [];
	for (let i = 0; i < items.length; i += perLine)
		lines.push('\t' + items.slice(i, i + perLine).join(', ') + ',');
	return lines.join('\n');
}

let src = `/*
 * unicode_tables.c
 *	  GENERATED FILE, DO NOT EDIT.  Per-code-point decisions of Hugging Face
 *	  tokenizers ${version} (BertNormalizer, BertPreTokenizer, NFD, lowercase),
 *	  probed on every Unicode scalar value.
 *
 *	  Regenerate from the repository root with:
 *	    (cd test/oracle && npm ci --ignore-scripts)
 *	    node tools/gen_unicode_tables.js
 *
 *	  Ranges per property: ${stats.join(', ')}.
 *	  ${tn.keys.length} decompositions (+ 11172 algorithmic Hangul syllables),
 *	  ${tl.keys.length} lowercase mappings.
 */
#include "unicode_tables.h"

/* flags of code point c: sst2_uc_stage2[sst2_uc_stage1[c >> 7]][c & 127] */
const uint16_t sst2_uc_stage1[${stage1.length}] = {
${wrap(stage1, 16)}
};

const uint8_t sst2_uc_stage2[${blocks.length}][${BLOCK}] = {
${blocks.map(b => '\t{' + Array.from(b).join(',') + '},').join('\n')}
};

/* canonical decompositions (full, canonically ordered), Hangul excluded */
const sst2_uc_map sst2_uc_nfd[${tn.rows.length}] = {
${wrap(tn.rows, 6)}
};
const uint32_t sst2_uc_nfd_pool[${tn.pool.length}] = {
${wrap(tn.pool.map(x => '0x' + x.toString(16)), 12)}
};
const int	sst2_uc_nfd_count = ${tn.rows.length};

/* Rust char::to_lowercase (full mapping) where it is not the identity */
const sst2_uc_map sst2_uc_lower[${tl.rows.length}] = {
${wrap(tl.rows, 6)}
};
const uint32_t sst2_uc_lower_pool[${tl.pool.length}] = {
${wrap(tl.pool.map(x => '0x' + x.toString(16)), 12)}
};
const int	sst2_uc_lower_count = ${tl.rows.length};
`;
fs.writeFileSync(out, src);
console.error(`wrote ${out} (max nfd length ${maxNfd}, max lower length ${maxLower})`);
