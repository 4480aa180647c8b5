// kafkajs_check.js: kafkajs 2.2.4 against finnstreamd, for
// tests/integration/26-kafka-kafkajs.t.  Prints key=value lines.
//
//   node kafkajs_check.js KAFKAJS_DIR BOOTSTRAP
'use strict';
const { Kafka, logLevel } = require(process.argv[2]);
const bootstrap = process.argv[3];
const kafka = new Kafka({ clientId: 'kjs-check', brokers: [bootstrap],
  logLevel: logLevel.NOTHING, retry: { retries: 10 } });
const out = (k, v) => console.log(`${k}=${v}`);

async function consume(groupId, topic, want, opts) {
  const c = kafka.consumer({ groupId, sessionTimeout: 10000,
    heartbeatInterval: 1000, maxWaitTimeInMs: 500 });
  const got = [];
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 30000);
    c.run({ ...(opts || {}), eachMessage: async ({ partition, message }) => {
      got.push({ partition, offset: Number(message.offset) });
      if (got.length >= want) { clearTimeout(timer); resolve(); }
    } });
  });
  await c.disconnect();
  return got;
}

(async () => {
  const p = kafka.producer({ allowAutoTopicCreation: true });
  await p.connect();
  const msgs = (tag) => Array.from({ length: 20 },
    (_, i) => ({ key: `k${i}`, value: `${tag}-${i}` }));
  await p.send({ topic: 'kjs', messages: msgs('all') });
  await p.send({ topic: 'kjs', acks: 1, messages: msgs('one') });
  out('produced', 40);

  const admin = kafka.admin();
  await admin.connect();
  const md = await admin.fetchTopicMetadata({ topics: ['kjs'] });
  out('metadata_partitions', md.topics[0].partitions.length);

  const got = await consume('kjsg', 'kjs', 40);
  out('consumed', got.length);
  const offs = await admin.fetchOffsets({ groupId: 'kjsg', topics: ['kjs'] });
  out('committed_sum', offs[0].partitions.reduce((s, x) => s + Number(x.offset), 0));
  const desc = await admin.describeGroups(['kjsg']);
  out('state', desc.groups[0].state);
  const list = await admin.listGroups();
  out('listed', list.groups.some((g) => g.groupId === 'kjsg') ? 1 : 0);

  // A committed offset that retention trims: kafkajs resets to the
  // earliest retained record (fromBeginning) after OFFSET_OUT_OF_RANGE.
  await p.send({ topic: 'kjsoor', messages: Array.from({ length: 10 },
    () => ({ partition: 0, value: 'small' })) });
  await admin.setOffsets({ groupId: 'kjs-oor', topic: 'kjsoor',
    partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '0' }] });
  const big = 'x'.repeat(1000);
  for (let i = 0; i < 30; i++)
    await p.send({ topic: 'kjsoor', messages: Array.from({ length: 100 },
      () => ({ partition: 0, value: big })) });
  let low = 0;
  for (let i = 0; i < 50 && low <= 5; i++) {
    const t = await admin.fetchTopicOffsets('kjsoor');
    low = Number(t.find((x) => x.partition === 0).low);
    if (low <= 5) await new Promise((r) => setTimeout(r, 200));
  }
  out('start', low);
  const oor = await consume('kjs-oor', 'kjsoor', 1);
  out('first', oor.length ? oor[0].offset : -1);
  await p.disconnect();
  await admin.disconnect();
})().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
