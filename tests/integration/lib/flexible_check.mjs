// flexible_check.mjs: @platformatic/kafka, a client that implements only
// the flexible (KIP-482) versions of every API it sends (ApiVersions 3-4,
// Metadata 9-12, Produce 9-11 for its producer, Fetch 12-17 with topic
// ids, ListOffsets 6-9, the group APIs' flexible versions), against
// finnstreamd, for tests/integration/27-kafka-flexible.t.  Prints
// key=value lines.
//
//   node flexible_check.mjs PACKAGE_ENTRY_FILE BOOTSTRAP
import { pathToFileURL } from 'node:url'

const pk = await import(pathToFileURL(process.argv[2]).href)
const brokers = [process.argv[3]]
const out = (k, v) => console.log(`${k}=${v}`)

async function consume (want) {
  const c = new pk.Consumer({ groupId: 'pkg', clientId: 'flex-cons',
    bootstrapBrokers: brokers, deserializers: pk.stringDeserializers,
    sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTime: 500 })
  const stream = await c.consume({ topics: ['flex'], autocommit: false,
    mode: 'committed', fallbackMode: 'earliest' })
  const got = []
  const timer = setTimeout(() => stream.close(), 30000)
  for await (const m of stream) {
    got.push(m.value)
    await m.commit()
    if (got.length >= want) break
  }
  clearTimeout(timer)
  await stream.close()
  await c.close()
  return got
}

async function produce (from, n) {
  const p = new pk.Producer({ clientId: 'flex-prod', bootstrapBrokers: brokers,
    serializers: pk.stringSerializers, autocreateTopics: true })
  await p.send({ messages: Array.from({ length: n },
    (_, i) => ({ topic: 'flex', key: `k${from + i}`, value: `v${from + i}` })) })
  await p.close()
}

await produce(0, 20)
const first = await consume(20)
out('first', first.length)
await produce(20, 5)
const second = await consume(5)
out('second', second.length)
out('second_new', second.every((v) => Number(v.slice(1)) >= 20) ? 1 : 0)

const a = new pk.Admin({ clientId: 'flex-admin', bootstrapBrokers: brokers })
const offs = await a.listConsumerGroupOffsets({ groups: ['pkg'] })
let sum = 0n
for (const g of offs) for (const t of g.topics) for (const p of t.partitions) sum += p.committedOffset
out('committed_sum', sum)
const groups = await a.listGroups()
out('listed', groups.has('pkg') ? 1 : 0)
const desc = await a.describeGroups({ groups: ['pkg'] })
out('state', desc.get('pkg').state)
const md = await a.metadata({ topics: ['flex'] })
const t = md.topics.get('flex')
out('topic_id', t && t.id && !/^0+$/.test(String(t.id).replace(/-/g, '')) ? 1 : 0)
out('partitions', t ? t.partitionsCount ?? t.partitions.length : 0)
await a.close()
process.exit(0)
