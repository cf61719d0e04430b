// Drives the real posthog-node against a running mockhog and prints what it saw as JSON.
// Usage: node sdk_check.mjs <path to posthog-node> <host> <project token> <personal key> <people.json>
// people.json: [[distinct_id, person_properties], ...]
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const [sdkPath, host, token, personalApiKey, peoplePath] = process.argv.slice(2)
const { PostHog } = createRequire(import.meta.url)(sdkPath)
const people = JSON.parse(readFileSync(peoplePath, 'utf8'))

// capture, identify, alias, group identify, then flush
const writer = new PostHog(token, { host, flushAt: 20, flushInterval: 0 })
writer.capture({ distinctId: 'node-anon', event: 'node_signed_up', properties: { plan: 'team' } })
writer.identify({
  distinctId: 'node-user',
  properties: { $anon_distinct_id: 'node-anon', $set: { email: 'node@hedgebox.dev' } },
})
writer.alias({ distinctId: 'node-user', alias: 'node-user-2' })
writer.groupIdentify({ groupType: 'organization', groupKey: 'node-org', properties: { name: 'Node Org' } })
writer.capture({ distinctId: 'node-user', event: 'node_file_shared', groups: { organization: 'node-org' } })
await writer.flush()
await writer.shutdown()

// remote (/flags/?v=2) against local evaluation of /flags/definitions
const remote = new PostHog(token, { host, flushAt: 1000, sendFeatureFlagEvent: false })
const local = new PostHog(token, { host, personalApiKey, flushAt: 1000, sendFeatureFlagEvent: false })
const ready = await local.waitForLocalEvaluationReady(15000)
const evaluations = []
for (const [distinctId, personProperties] of people) {
  const fromServer = await remote.getAllFlagsAndPayloads(distinctId)
  const fromLocal = await local.getAllFlagsAndPayloads(distinctId, { personProperties, onlyEvaluateLocally: true })
  evaluations.push({ distinctId, remote: fromServer, local: fromLocal })
}
await remote.shutdown()
await local.shutdown()
console.log(JSON.stringify({ ready, evaluations }))
