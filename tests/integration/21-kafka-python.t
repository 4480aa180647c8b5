# kafka-python and confluent-kafka (librdkafka) against the Kafka
# listener: produce and consume by assignment, keyed records landing where
# Kafka's murmur2 partitioner puts them whichever client wrote them,
# compression (stored verbatim, refused in trades), offsets by time, and
# a long-polling consumer seeing a record within milliseconds.
use strict;
use warnings;
use Test::More;
use Daemon qw(run_cmd tmult);

my $py = $ENV{PYTHON3} || '/usr/bin/python3';
$py = '/usr/bin/python3' unless -x $py;
plan skip_all => 'python3-kafka and python3-confluent-kafka are needed'
    unless system($py, '-c', 'import kafka, confluent_kafka') == 0;

my $d = Daemon->new(args => ['--sim_rate', '200', '--partitions', '4']);

sub py {
	my ($what, $code, @args) = @_;
	my ($st, $out, $err) = run_cmd([$py, '-c', $code, $d->kafka, @args], 90);
	is($st, 0, "$what: ran") or diag($err);
	my %r;
	for (split /\n/, $out) {
		$r{$1} = $2 if /^(\w+)=(.*)$/;
	}
	return \%r;
}

# kafka-python: ApiVersions v0 + Metadata v0 pipelined probe, Metadata v1
# (creating the topic), Produce v7 acks=1 and all, ListOffsets v1, Fetch v4.
# It infers its broker release from a few advertised versions: Produce v8
# makes it 2.4, the newest it knows.
my $r = py('kafka-python', <<'EOP');
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2
bs = sys.argv[1]
keys = [('key-%d' % i).encode() for i in range(40)]
sent = {}
for acks in (1, 'all'):
    p = KafkaProducer(bootstrap_servers=bs, acks=acks)
    futs = [(k, p.send('pytopic', key=k, value=k + b'-' + str(acks).encode()))
            for k in keys]
    p.flush()
    for k, f in futs:
        md = f.get(timeout=10)
        sent.setdefault(k, set()).add(md.partition)
    p.close()
print('api_version=%s' % '.'.join(map(str, p.config['api_version'])))
c = KafkaConsumer(bootstrap_servers=bs, consumer_timeout_ms=3000)
tps = [TopicPartition('pytopic', i) for i in range(4)]
c.assign(tps)
c.seek_to_beginning()
got = [(m.partition, m.offset, m.key, m.value) for m in c]
print('consumed=%d' % len(got))
print('values_ok=%d' % (sorted(v for _, _, _, v in got) == sorted(
    k + b'-' + a for k in keys for a in (b'1', b'all'))))
print('murmur2_ok=%d' % all(
    p == (murmur2(k) & 0x7fffffff) % 4 and sent[k] == {p}
    for p, _, k, _ in got))
per = {}
for p, o, _, _ in got:
    per.setdefault(p, []).append(o)
print('offsets_ok=%d' % all(o == list(range(len(o))) for o in per.values()))
ends = c.end_offsets(tps)
print('ends_ok=%d' % (sum(ends.values()) == 80))
begins = c.beginning_offsets(tps)
print('begins_ok=%d' % all(v == 0 for v in begins.values()))
ts = c.offsets_for_times({tps[0]: 0})[tps[0]]
print('by_time_ok=%d' % (ts is not None and ts.offset == 0))
late = c.offsets_for_times({tps[0]: 2**62})[tps[0]]
print('by_time_none=%d' % (late is None))
c.close()
EOP
is($r->{api_version}, '2.4.0', 'kafka-python infers 2.4 (RecordBatch v2)');
is($r->{consumed}, 80, 'kafka-python consumed all 80 records');
is($r->{values_ok}, 1, 'values round trip (acks=1 and acks=all)');
is($r->{murmur2_ok}, 1, 'every keyed record is in murmur2(key) % 4');
is($r->{offsets_ok}, 1, 'offsets dense from 0 in each partition');
is($r->{ends_ok}, 1, 'end offsets (ListOffsets latest) sum to 80');
is($r->{begins_ok}, 1, 'beginning offsets (earliest) are 0');
is($r->{by_time_ok}, 1, 'offsets_for_times(0) is the first offset');
is($r->{by_time_none}, 1, 'offsets_for_times(future) is none');

# confluent-kafka: the same keys land in the same partitions.
$r = py('confluent-kafka', <<'EOP');
import sys
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING
from kafka.partitioner.default import murmur2
bs = sys.argv[1]
keys = [('key-%d' % i).encode() for i in range(40)]
dr = []
p = Producer({'bootstrap.servers': bs, 'partitioner': 'murmur2_random'})
for k in keys:
    p.produce('cktopic', key=k, value=b'ck-' + k,
              on_delivery=lambda e, m: dr.append((e, m.key(), m.partition())))
p.flush(20)
print('delivered=%d' % sum(1 for e, _, _ in dr if e is None))
print('murmur2_ok=%d' % all(part == (murmur2(k) & 0x7fffffff) % 4
                            for _, k, part in dr))
c = Consumer({'bootstrap.servers': bs, 'group.id': 'unused',
              'enable.auto.commit': False})
c.assign([TopicPartition('cktopic', i, OFFSET_BEGINNING) for i in range(4)])
got = []
while len(got) < 40:
    m = c.poll(5)
    if m is None:
        break
    if not m.error():
        got.append((m.key(), m.value()))
print('consumed=%d' % len(got))
print('values_ok=%d' % (sorted(got) == sorted((k, b'ck-' + k) for k in keys)))
c.close()
EOP
is($r->{delivered}, 40, 'confluent-kafka delivered 40 records');
is($r->{murmur2_ok}, 1, 'librdkafka murmur2_random agrees with Kafka\'s murmur2');
is($r->{consumed}, 40, 'confluent-kafka consumed them by assignment');
is($r->{values_ok}, 1, 'keys and values round trip');

# Compression: kafka-python compresses (librdkafka would not, as this
# broker serves no Produce v0).  Stored verbatim in a plain topic; refused
# in trades, whose records the aggregator reads.
$r = py('compression', <<'EOP');
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
bs = sys.argv[1]
p = KafkaProducer(bootstrap_servers=bs, compression_type='gzip',
                  retries=0)
md = p.send('gztopic', key=b'k', value=b'z' * 1000, partition=1).get(10)
print('plain_ok=%d' % (md.offset == 0))
# kafka-python 2.0 predates error 76: it reports an unknown error.
try:
    p.send('trades', key=b'AAPL', value=b'{}' * 500, partition=0).get(10)
    print('trades_refused=0')
except KafkaError:
    print('trades_refused=1')
p.close()
c = KafkaConsumer(bootstrap_servers=bs, consumer_timeout_ms=3000)
tp = TopicPartition('trades', 0)
c.assign([tp])
c.seek_to_beginning()
end = c.end_offsets([tp])[tp]
stored = False
for m in c:
    stored = stored or m.value == b'{}' * 500
    if m.offset + 1 >= end:
        break
print('not_stored=%d' % (not stored))
c.assign([TopicPartition('gztopic', 1)])
c.seek_to_beginning()
vals = [m.value for m in c]
print('readback_ok=%d' % (vals == [b'z' * 1000]))
c.close()
EOP
is($r->{plain_ok}, 1, 'a gzip batch into a plain topic is stored');
is($r->{readback_ok}, 1, 'and read back (decompressed by the client)');
is($r->{trades_refused}, 1, 'a gzip batch into trades is refused');
is($r->{not_stored}, 1, 'and not stored');
ok($d->log_like(qr/refused a compressed batch for trades .*set compression\.type=none/),
    'the log says why (UNSUPPORTED_COMPRESSION_TYPE; kafka-python 2.0 '
    . 'cannot name error 76)');

# Long poll: a consumer waiting at the end sees a produced record within
# milliseconds, not after fetch.wait.max.ms.
$r = py('long-poll latency', <<'EOP');
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_END
bs = sys.argv[1]
p = Producer({'bootstrap.servers': bs, 'linger.ms': 0})
p.produce('lptopic', value=b'warm-up', partition=0)
p.flush(10)
c = Consumer({'bootstrap.servers': bs, 'group.id': 'unused',
              'enable.auto.commit': False, 'fetch.wait.max.ms': 2000})
c.assign([TopicPartition('lptopic', 0, OFFSET_END)])
# The client resolves OFFSET_END in its own time: produce until a record
# comes back, so the loop below starts with the consumer waiting at the end.
synced = False
for i in range(20):
    p.produce('lptopic', value=b'sync', partition=0)
    p.flush(10)
    m = c.poll(1)
    if m is not None and not m.error():
        synced = True
        break
while c.poll(0.2) is not None:
    pass
lat = []
for i in range(30):
    t0 = time.time()
    p.produce('lptopic', value=b'x%d' % i, partition=0)
    p.flush(10)
    m = c.poll(5)
    if m is not None and not m.error():
        lat.append((time.time() - t0) * 1000)
c.close()
lat.sort()
print('n=%d' % len(lat))
print('p50=%.2f' % (lat[len(lat) // 2] if lat else -1))
EOP
is($r->{n}, 30, 'every record reached the waiting consumer');
cmp_ok($r->{p50}, '<', 100 * tmult(),
    "median produce-to-consume $r->{p50} ms (fetch.wait.max.ms is 2000)");

is($d->stop, 0, 'clean exit');
done_testing();
