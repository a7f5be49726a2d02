// The prerendering of the report site, in a process of its own, from compiled bundles.
//
// `evidence build` runs `vite build`, which compiles every page and Evidence's component
// library twice (the server and the browser bundle, about 1,500 and 2,900 modules, 2-3 GB of
// memory) and then prerenders the pages, running their queries on the data. The bundles depend
// only on the pages, components, configuration and installed packages, not on the data.
// bibbla/reports.py therefore has Evidence's CLI run, in .evidence/template and in place of
// `npx vite build` (the BIBBLA_VITE_BUILD_COMMAND edit of scripts/patch-evidence.cjs), either
//   BIBBLA_BUNDLES_ONLY=1 npx vite build && node <project>/scripts/prerender.mjs
// (compile without prerendering, then prerender the bundles just built, in place), or
//   node <project>/scripts/prerender.mjs <bundle cache folder>
// (the bundles of an earlier build with the same inputs, which bibbla/reports.py keeps).
// Evidence's CLI does everything else as usual (the template, copying the pages, hashing the
// data files, copying the site to build/).
//
// This does what SvelteKit's Vite plugin (@sveltejs/kit 2.8.4, pinned) does after building
// its two bundles, with the same internal functions: list the routes and static files again
// (the static files hold the data), write the server manifest, analyse the routes, prerender,
// and run the adapter.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TEMPLATE = process.cwd();
const PROJECT = path.resolve(TEMPLATE, '..', '..');
const KIT = path.join(PROJECT, 'node_modules', '@sveltejs', 'kit');

function fail(message) {
	console.error(`[prerender] ERROR: ${message}`);
	process.exit(1);
}

const cache = process.argv[2]; // undefined: the bundles in .svelte-kit/output, just built
if (cache && !fs.existsSync(path.join(cache, 'server', 'manifest-full.js'))) {
	fail(`no cached bundles at ${cache}`);
}
const kitVersion = JSON.parse(fs.readFileSync(path.join(KIT, 'package.json'), 'utf8')).version;
if (kitVersion !== '2.8.4') fail(`written for @sveltejs/kit 2.8.4, found ${kitVersion}`);

const kitModule = (file) => import(pathToFileURL(path.join(KIT, 'src', file)).href);
const { load_config } = await kitModule('core/config/index.js');
const sync = await kitModule('core/sync/sync.js');
const { generate_manifest } = await kitModule('core/generate_manifest/index.js');
const { get_env } = await kitModule('exports/vite/utils.js');
const { logger } = await kitModule('core/utils.js');
const { default: analyse } = await kitModule('core/postbuild/analyse.js');
const { default: prerender } = await kitModule('core/postbuild/prerender.js');
const { adapt } = await kitModule('core/adapt/index.js');

// Evidence's CLI copies the project's pages, partials, … into the template with a file watcher
// that runs beside this process. Prerendering reads the pages and partials, so wait until every
// copy is in place (the same mapping as @evidence-dev/evidence/cli.js).
const WATCHED = [
	['pages', 'src/pages'],
	['static', 'static'],
	['sources', 'sources'],
	['queries', 'queries'],
	['components', 'src/components'],
	['partials', 'partials']
];
function copiesExpected() {
	const expected = [];
	const walk = (dir) =>
		fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
			const full = path.join(dir, entry.name);
			return entry.isDirectory() ? walk(full) : [full];
		});
	for (const [from, to] of WATCHED) {
		const source = path.join(PROJECT, from);
		if (!fs.existsSync(source)) continue;
		for (const file of walk(source)) {
			// The watcher leaves out pages that would shadow Evidence's own routes.
			if (from === 'pages' && /^(explore|settings|api)([./]|$)/.test(path.relative(source, file))) {
				continue;
			}
			let target = path.join(to, path.relative(source, file));
			if (target.includes('pages')) {
				target = target.endsWith('index.md')
					? target.replace('index.md', '+page.md')
					: target.replace('.md', '/+page.md');
			}
			expected.push([file, path.join(TEMPLATE, target)]);
		}
	}
	if (fs.existsSync(path.join(PROJECT, 'app.css'))) {
		expected.push([path.join(PROJECT, 'app.css'), path.join(TEMPLATE, 'src', 'app.css')]);
	}
	return expected;
}
const same = ([source, target]) =>
	fs.existsSync(target) && fs.readFileSync(source).equals(fs.readFileSync(target));
const expected = copiesExpected();
for (let waited = 0; !expected.every(same); waited += 100) {
	if (waited > 60_000) {
		const missing = expected.filter((pair) => !same(pair)).map(([, target]) => target);
		fail(`Evidence did not copy these files into the template:\n  ${missing.join('\n  ')}`);
	}
	await new Promise((resolve) => setTimeout(resolve, 100));
}

const svelte_config = await load_config();
const { kit } = svelte_config;
const out = `${kit.outDir}/output`;
const mode = 'production';
const verbose = false;
const log = logger({ verbose });
if (['.js', '.ts'].some((extension) => fs.existsSync(kit.files.serviceWorker + extension))) {
	fail('the project has a service worker, which this script does not build');
}

if (cache) {
	// The cached bundles, then the static files (the data) as Vite's build copies them.
	fs.rmSync(out, { recursive: true, force: true });
	fs.cpSync(path.join(cache, 'server'), `${out}/server`, { recursive: true });
	fs.cpSync(path.join(cache, 'client'), `${out}/client`, { recursive: true });
	if (fs.existsSync(kit.files.assets)) {
		fs.cpSync(kit.files.assets, `${out}/client`, { recursive: true });
	}
} else if (!fs.existsSync(`${out}/server/manifest-full.js`)) {
	fail(`no bundles in ${path.resolve(out)}: run \`BIBBLA_BUNDLES_ONLY=1 npx vite build\` first`);
}

const env = get_env(kit.env, mode);
// Routes, nodes and the list of static files, as the plugin's `config` hook computes them.
const { manifest_data } = sync.all(svelte_config, mode);
const server_manifest = JSON.parse(fs.readFileSync(`${out}/server/.vite/manifest.json`, 'utf8'));
// The browser entry points the bundler found, from the manifest it wrote.
const built_manifest = path.resolve(cache ?? out, 'server', 'manifest-full.js');
const { manifest: built } = await import(`${pathToFileURL(built_manifest).href}?built`);

/** @type {import('types').BuildData} */
const build_data = {
	app_dir: kit.appDir,
	app_path: `${kit.paths.base.slice(1)}${kit.paths.base ? '/' : ''}${kit.appDir}`,
	manifest_data,
	out_dir: out,
	service_worker: null,
	client: built._.client,
	server_manifest
};

const manifest_path = `${out}/server/manifest-full.js`;
fs.writeFileSync(
	manifest_path,
	`export const manifest = ${generate_manifest({
		build_data,
		relative_path: '.',
		routes: manifest_data.routes
	})};\n`
);

// Features the server code uses (SvelteKit marks them with comments while bundling); only
// checked against the adapter, which the first build already did with the same code.
const tracked_features = {};
for (const chunk of Object.values(server_manifest)) {
	const code = fs.readFileSync(`${out}/server/${chunk.file}`, 'utf8');
	for (const [, label] of code.matchAll(/\/\* track (\S+) +\*\//g)) {
		(tracked_features[chunk.file] ??= []).push(label);
	}
}

log.info('Analysing routes');
const metadata = await analyse({
	manifest_path,
	manifest_data,
	server_manifest,
	tracked_features,
	env: { ...env.private, ...env.public }
});
const { prerendered, prerender_map } = await prerender({
	out,
	manifest_path,
	metadata,
	verbose,
	env: { ...env.private, ...env.public }
});
fs.writeFileSync(
	`${out}/server/manifest.js`,
	`export const manifest = ${generate_manifest({
		build_data,
		relative_path: '.',
		routes: manifest_data.routes.filter((route) => prerender_map.get(route.id) !== true)
	})};\n`
);
await adapt(svelte_config, build_data, metadata, prerendered, prerender_map, log, { mode });
