// A jsdom page served from another origin than mockhog, with the real posthog-js bundle
// (dist/main.js) loaded in its global scope: window.fetch is absent there (jsdom has none), so the
// SDK sends with the page's XMLHttpRequest, which enforces CORS (preflights included) against
// mockhog's answers, as in a browser. `errors` collects what the page reported.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

export function openPage(modules, url, body) {
  const { JSDOM, VirtualConsole } = createRequire(join(modules, 'jsdom', 'package.json'))('jsdom')
  const bundle = readFileSync(join(modules, 'posthog-js', 'dist', 'main.js'), 'utf8')
  const errors = []
  const virtualConsole = new VirtualConsole()
  virtualConsole.on('jsdomError', (error) => errors.push(String(error.message || error)))
  virtualConsole.on('error', (...args) => errors.push(args.map(String).join(' ')))
  const dom = new JSDOM(`<!doctype html><html><head><title>app</title></head><body>${body}</body></html>`, {
    url,
    // the SDK loads its remote config as a <script> (config.js), as in a browser
    runScripts: 'dangerously',
    resources: 'usable',
    pretendToBeVisual: true,
    virtualConsole,
  })
  const { window } = dom
  const module = { exports: {} }
  window.eval(`(function (module, exports) {\n${bundle}\n})`)(module, module.exports)
  return { window, errors, PostHog: module.exports.PostHog }
}
