// Drives the real posthog-js (its npm bundle, dist/main.js) inside a jsdom page served from another
// origin than mockhog, so that every request goes through jsdom's XMLHttpRequest with its CORS
// checks (preflights included), as in a browser. Prints what the SDK saw as JSON on the last line.
// Usage: node posthog_js_check.mjs <node_modules dir> <mockhog url> <project token> <page origin> <flag keys JSON>
import { openPage } from './jsdom_page.mjs'

const [modules, host, token, pageOrigin, flagKeysJson] = process.argv.slice(2)
const flagKeys = JSON.parse(flagKeysJson)
const { window, errors, PostHog } = openPage(modules, `${pageOrigin}/signup`, '<h1>Hedgebox</h1>')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(what, check, ms = 20000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}; page errors: ${errors.slice(-5).join(' | ')}`)
}

async function capturedCount(event) {
  const response = await fetch(`${host}/_mockhog/captured?event=${encodeURIComponent(event)}`)
  return (await response.json()).results.length
}

const posthog = new PostHog()
let flagsLoaded = 0
posthog.init(token, {
  api_host: host,
  persistence: 'localStorage',
  person_profiles: 'identified_only',
  autocapture: false,
  capture_pageleave: false,
  disable_session_recording: true,
})
posthog.onFeatureFlags(() => {
  flagsLoaded += 1
})
await until('the first flags', () => flagsLoaded > 0)
const anonId = posthog.get_distinct_id()

// each flag as the SDK holds it (getFeatureFlag sends $feature_flag_called once per value)
function flagState() {
  const values = {}
  const payloads = {}
  for (const key of flagKeys) {
    values[key] = posthog.getFeatureFlag(key) ?? null
    payloads[key] = posthog.getFeatureFlagPayload(key) ?? null
  }
  return { values, payloads }
}
const before = flagState()

posthog.capture('js_signed_up', { plan: 'team' })
posthog.identify('js-user', { email: 'js@hedgebox.dev' }, { first_seen_page: '/signup' })
posthog.group('organization', 'js-org', { name: 'JS Org' })
posthog.alias('js-user-2')
posthog.capture('js_file_shared', { size: 3 })
// identify reloads the flags for the identified user
await until('the flags of the identified user', () => flagsLoaded > 1)
const after = flagState()
await until('the batched events to arrive', async () => (await capturedCount('js_file_shared')) > 0)
await until('the flag call event', async () => (await capturedCount('$feature_flag_called')) > 0)

// A second page whose SDK sends uncompressed JSON: application/json is not a CORS-simple type, so
// every POST is preflighted.
const plain = posthog.init(token, { api_host: host, disable_compression: true, autocapture: false, persistence: 'memory' }, 'plain')
plain.capture('js_plain_event', { through: 'preflight' })
await until('the uncompressed event', async () => (await capturedCount('js_plain_event')) > 0)

console.log(
  JSON.stringify({
    anonId,
    distinctId: posthog.get_distinct_id(),
    before,
    after,
    compression: posthog.compression ?? null,
    errors,
  }),
)
window.close()
process.exit(0)
