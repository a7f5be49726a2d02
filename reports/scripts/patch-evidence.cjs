// Postinstall: small edits to installed Evidence packages, each explained below.
//
// Each edit replaces one exact piece of code. If that code is not found exactly once (a new
// Evidence version moved it), the script exits 1 so that `npm ci` fails: a silently skipped
// edit would bring back a hang offline, an English page language or US number formats.
// Running it again is harmless (edits already made are recognised and left alone).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TAG = 'bibbla patch, see reports/scripts/patch-evidence.cjs';

function fail(message) {
	console.error(`\n[patch-evidence] ERROR: ${message}\n`);
	process.exit(1);
}

// The directory of every installed copy of a package, hoisted or nested.
function installed(name, root = ROOT, found = []) {
	const modules = path.join(root, 'node_modules');
	if (!fs.existsSync(modules)) return found;
	if (fs.existsSync(path.join(modules, name, 'package.json'))) found.push(path.join(modules, name));
	for (const entry of fs.readdirSync(modules)) {
		if (entry.startsWith('.')) continue;
		const dirs = entry.startsWith('@')
			? fs.readdirSync(path.join(modules, entry)).map((d) => path.join(modules, entry, d))
			: [path.join(modules, entry)];
		for (const dir of dirs) installed(name, dir, found);
	}
	if (root === ROOT && found.length === 0) fail(`${name} is not installed.`);
	return found;
}

function version(dir) {
	return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

// Replace `original` (which must occur exactly once) by `patched` in `file`.
function edit(file, original, patched) {
	const where = path.relative(ROOT, file);
	if (!fs.existsSync(file)) fail(`${where} does not exist; Evidence changed its layout.`);
	const source = fs.readFileSync(file, 'utf8');
	if (source.includes(patched)) return;
	const count = source.split(original).length - 1;
	if (count !== 1) fail(`expected this once in ${where}, found it ${count} times:\n  ${original}`);
	fs.writeFileSync(file, source.replace(original, patched));
	console.log(`[patch-evidence] patched ${where}`);
}

// 1. DuckDB-WASM 1.28.0 (DuckDB 0.9.1). Newer DuckDB-WASM (1.29+) downloads its Parquet
//    extension from the internet at run time, in `npm run sources`, `npm run build` and in the
//    browser, and Evidence then waits forever where that download is impossible. package.json
//    overrides it to 1.28.0, the last release with Parquet built in. Evidence's DuckDB client
//    starts with two settings that DuckDB 0.9.1 does not have and that abort its start-up; both
//    ask for what 0.9.1 does anyway (x/0 is NULL; implicit casts to VARCHAR), so they are not
//    sent at all (a try/catch would still make DuckDB log an error in every browser).
for (const dir of installed('@duckdb/duckdb-wasm')) {
	if (version(dir) !== '1.28.0') {
		fail(
			`${path.relative(ROOT, dir)} is ${version(dir)}, not 1.28.0: keep the "overrides" ` +
				'entry in package.json (newer versions download Parquet at run time and hang offline).'
		);
	}
}
for (const dir of installed('@evidence-dev/universal-sql')) {
	for (const file of ['src/client-duckdb/browser.js', 'src/client-duckdb/node.js']) {
		for (const statement of ['SET ieee_floating_point_ops = false;', 'SET old_implicit_casting = true;']) {
			const original = `await connection.query('${statement}');`;
			edit(path.join(dir, file), original, `/* not in DuckDB 0.9.1: ${original} (${TAG}) */`);
		}
	}
}

// 2. The pages are Swedish: declare it (screen readers, hyphenation, WCAG 3.1.1). Evidence has
//    no setting for the page language; its HTML template says "en".
for (const dir of installed('@evidence-dev/evidence')) {
	edit(path.join(dir, 'template/src/app.html'), '<html lang="en">', '<html lang="sv">');
}

// 3. Swedish number formats. Evidence formats numbers with SSF (Excel format codes such as
//    `#,##0.0`), which always writes US separators and has no locale setting. Wrap its `format`
//    so that numbers (not dates) come out as Swedish: 1 234,5 (no-break space between
//    thousands, decimal comma, minus sign U+2212), the same as Intl.NumberFormat('sv-SE').
//    Numbers without a format use the browser's locale: make that sv-SE too.
const SWEDISH_SSF = [
	`import ssfUnlocalised from 'ssf'; /* ${TAG} */`,
	'const ssf = { ...ssfUnlocalised, format(code, value, options) {',
	'\tconst text = ssfUnlocalised.format(code, value, options);',
	"\tif (typeof value !== 'number' || typeof text !== 'string' || ssfUnlocalised.is_date(code)) return text;",
	"\treturn text.replace(/[,.]|-(?=\\d)/g, (c) => (c === ',' ? '\\u00a0' : c === '.' ? ',' : '\\u2212'));",
	'} };'
].join('\n');
for (const dir of installed('@evidence-dev/component-utilities')) {
	for (const file of ['src/formatting.js', 'src/autoFormatting.js']) {
		edit(path.join(dir, file), "import ssf from 'ssf';", SWEDISH_SSF);
	}
	edit(
		path.join(dir, 'src/autoFormatting.js'),
		'return typedValue.toLocaleString(undefined, {',
		`return typedValue.toLocaleString('sv-SE', { /* ${TAG} */`
	);
}

// 4. Swedish frame text and figures without stray spaces. A value (`<Value>`) ends in a space
//    because Evidence's template breaks the line after the number, so "5,76 ." showed before
//    a full stop; the table of contents, the table search box and the table pager are Swedish.
for (const dir of installed('@evidence-dev/core-components')) {
	const dist = path.join(dir, 'dist');
	edit(
		path.join(dist, 'unsorted/viz/core/_Value.svelte'),
		'{formatValue(selected_value, format_object)}\n\t\t{#if description}',
		'{formatValue(selected_value, format_object)}{#if description}'
	);
	edit(
		path.join(dist, 'organisms/layout/tableofcontents/ContentsList.svelte'),
		'\t\tOn this page\n',
		'\t\tPå den här sidan\n'
	);
	edit(
		path.join(dist, 'unsorted/viz/core/SearchBar.svelte'),
		"export let placeholder = 'Search';",
		"export let placeholder = 'Sök';"
	);
	const table = path.join(dist, 'unsorted/viz/table/_DataTable.svelte');
	for (const [english, swedish] of [
		['aria-label="first-page"', 'aria-label="Första sidan"'],
		['aria-label="previous-page"', 'aria-label="Föregående sida"'],
		['aria-label="next-page"', 'aria-label="Nästa sida"'],
		['aria-label="last-page"', 'aria-label="Sista sidan"'],
		['<span class="page-count">\n\t\t\t\t\t\tPage\n', '<span class="page-count">\n\t\t\t\t\t\tSida\n'],
		[
			'{displayedPageLength.toLocaleString()} of {totalRows.toLocaleString()} records',
			"{displayedPageLength.toLocaleString('sv-SE')} av {totalRows.toLocaleString('sv-SE')} rader"
		]
	]) {
		edit(table, english, swedish);
	}
}

// 5. Swedish month names on chart time axes. ECharts names months in English unless a chart
//    is created with a locale; Evidence creates its charts without one. ECharts merges this
//    object with its English defaults (its own Swedish file, echarts/i18n/langSV-obj.js, is
//    a UMD module that Evidence's build cannot import as is).
const SWEDISH_ECHARTS = [
	`/* ${TAG} */ locale: { time: {`,
	"\t\tmonth: ['januari', 'februari', 'mars', 'april', 'maj', 'juni', 'juli', 'augusti', 'september', 'oktober', 'november', 'december'],",
	"\t\tmonthAbbr: ['jan', 'feb', 'mar', 'apr', 'maj', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'dec'],",
	"\t\tdayOfWeek: ['söndag', 'måndag', 'tisdag', 'onsdag', 'torsdag', 'fredag', 'lördag'],",
	"\t\tdayOfWeekAbbr: ['sön', 'mån', 'tis', 'ons', 'tor', 'fre', 'lör']",
	'\t} },',
	"\t\t\trenderer: useSvg ? 'svg' : (options.renderer ?? 'canvas')"
].join('\n');
for (const dir of installed('@evidence-dev/component-utilities')) {
	edit(
		path.join(dir, 'src/echarts.js'),
		"\t\t\trenderer: useSvg ? 'svg' : (options.renderer ?? 'canvas')",
		SWEDISH_ECHARTS
	);
}

// 6. Compiling and prerendering in two steps (bibbla/reports.py, scripts/prerender.mjs).
//    The compiled bundles depend on the pages, components and packages, not on the data; the
//    prerendering runs the page queries on the data. bibbla/reports.py has Evidence's build
//    run the command in BIBBLA_VITE_BUILD_COMMAND instead of `npx vite build`: `vite build`
//    with BIBBLA_BUNDLES_ONLY set (SvelteKit then skips its prerendering, so that the
//    bundler's 2-3 GB are freed before the queries run) followed by the prerendering in a
//    process of its own; or, when the bundles of an earlier build fit, the prerendering alone.
//    With neither variable set, nothing changes.
for (const dir of installed('@evidence-dev/evidence')) {
	edit(
		path.join(dir, 'cli.js'),
		'// Run svelte kit build in the hidden directory\n\tconst child = spawn(command, flatArgs, {',
		'// Run svelte kit build in the hidden directory\n\tconst child = spawn(' +
			`process.env.BIBBLA_VITE_BUILD_COMMAND || command /* ${TAG} */, flatArgs, {`
	);
}
for (const dir of installed('@sveltejs/kit')) {
	edit(
		path.join(dir, 'src/exports/vite/index.js'),
		'\t\t\t\tconst { prerendered, prerender_map } = await prerender({',
		[
			`\t\t\t\tconst { prerendered, prerender_map } = process.env.BIBBLA_BUNDLES_ONLY /* ${TAG} */`,
			'\t\t\t\t\t? { prerendered: { pages: new Map(), assets: new Map(), redirects: new Map(), paths: [] }, prerender_map: new Map() }',
			'\t\t\t\t\t: await prerender({'
		].join('\n')
	);
}

// 7. Fewer slow file writes while prerendering. Evidence's query cache rewrites a page's
//    _queries.json and two all-queries.json after every query it runs (and each page is
//    rendered twice), almost always with the same or a longer content. Truncating a file that
//    holds data is slow on some file systems (2-3 ms here on ext4 with `discard`, against
//    0.02 ms for a new file: 8 of the 18 s the prerendering spent was in these calls). The
//    helper now leaves a file whose content is already right alone and overwrites in place
//    when the new content is at least as long; the files end up byte for byte the same.
for (const dir of installed('@evidence-dev/universal-sql')) {
	const file = path.join(dir, 'src/cache-duckdb.js');
	edit(
		file,
		"import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'fs';",
		"import { writeFileSync, readFileSync, existsSync, mkdirSync, openSync, writeSync, closeSync } from 'fs';"
	);
	edit(
		file,
		'\tmkdirSync(dirname(path), { recursive: true });\n\twriteFileSync(path, data);\n};',
		[
			`\tmkdirSync(dirname(path), { recursive: true }); /* ${TAG} */`,
			"\tconst bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);",
			'\tconst old = existsSync(path) ? readFileSync(path) : null;',
			'\tif (old !== null && old.equals(bytes)) return;',
			'\tif (old !== null && bytes.length >= old.length) {',
			"\t\tconst fd = openSync(path, 'r+');",
			'\t\ttry { writeSync(fd, bytes, 0, bytes.length, 0); } finally { closeSync(fd); }',
			'\t\treturn;',
			'\t}',
			'\twriteFileSync(path, bytes);',
			'};'
		].join('\n')
	);
	edit(
		file,
		'\twriteFileSync(sql_path, JSON.stringify(sql_cache));',
		`\twriteToPossiblyNonexistentFile(sql_path, JSON.stringify(sql_cache)); /* ${TAG} */`
	);
}
