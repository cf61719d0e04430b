// Drives the real posthog-js (its npm bundle, dist/main.js) in a jsdom page served from another origin
// than mockhog, and asks it for the project's surveys: getSurveys(callback, true) fetches
// /api/surveys/?token= through the page's XMLHttpRequest, CORS checks included. Prints what the
// callback received as JSON on the last line.
// Usage: node posthog_js_surveys.mjs <node_modules dir> <mockhog url> <project token> <page origin>
import { openPage } from './jsdom_page.mjs'

const [modules, host, token, pageOrigin] = process.argv.slice(2)
const { window, errors, PostHog } = openPage(modules, `${pageOrigin}/settings`, '')

const posthog = new PostHog()
let flagsLoaded = false
posthog.init(token, {
  api_host: host,
  persistence: 'memory',
  autocapture: false,
  capture_pageview: false,
  capture_pageleave: false,
  disable_session_recording: true,
})
posthog.onFeatureFlags(() => {
  flagsLoaded = true
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const deadline = Date.now() + 20000
while (!flagsLoaded && Date.now() < deadline) await sleep(100)

const received = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve({ surveys: null, context: { error: 'no callback in 20s' } }), 20000)
  posthog.getSurveys((surveys, context) => {
    clearTimeout(timer)
    resolve({ surveys, context: context ?? null })
  }, true)
})

console.log(JSON.stringify({ ...received, errors }))
window.close()
process.exit(0)
