# confluent-kafka (librdkafka) and kafka-python as group consumers:
# produce with acks=1 and acks=all, subscribe, commit, read the commits
# back, offsets by time and watermarks, the group listed by the admin
# APIs; a commit acknowledged just before a kill -9 survives it; a
# committed offset that retention trimmed resets by auto.offset.reset.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd tmult);

my $py = $ENV{PYTHON3} || '/usr/bin/python3';
$py = '/usr/bin/python3' unless -x $py;
plan skip_all => 'python3-kafka and python3-confluent-kafka are needed'
    unless system($py, '-c', 'import kafka, confluent_kafka') == 0;

my $dir = tempdir(CLEANUP => 1);
my @args = ('--sim_rate', '10', '--partitions', '2',
    '--group_initial_rebalance_delay_ms', '0', '--log_retention_bytes', '1m');
my $d = Daemon->new(dir => $dir, args => \@args);

sub py {
	my ($what, $code, @args) = @_;
	my ($st, $out, $err) = run_cmd([$py, '-c', $code, $d->kafka, @args], 120);
	is($st, 0, "$what: ran") or diag($err);
	my %r;
	for (split /\n/, $out) {
		$r{$1} = $2 if /^(\w+)=(.*)$/;
	}
	return \%r;
}

my $r = py('confluent-kafka group', <<'EOP');
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
bs = sys.argv[1]
n = 0
for acks in ('1', 'all'):
    p = Producer({'bootstrap.servers': bs, 'acks': acks})
    ok = []
    for i in range(50):
        p.produce('ckg', key=b'k%d' % i, value=b'%s-%d' % (acks.encode(), i),
                  timestamp=1700000000000 + n,
                  on_delivery=lambda e, m: ok.append(e is None))
        n += 1
    p.flush(20)
    print('acks_%s=%d' % (acks, sum(ok)))
c = Consumer({'bootstrap.servers': bs, 'group.id': 'ckgroup',
              'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
              'session.timeout.ms': 6000})
c.subscribe(['ckg'])
got = []
end = time.time() + 30
while len(got) < 100 and time.time() < end:
    m = c.poll(0.5)
    if m is not None and not m.error():
        got.append(m)
print('consumed=%d' % len(got))
c.commit(asynchronous=False)
parts = [TopicPartition('ckg', i) for i in range(2)]
committed = c.committed(parts, timeout=10)
pos = c.position(parts)
print('committed_ok=%d' % (all(a.offset == b.offset and a.offset > 0
                                 for a, b in zip(committed, pos))))
print('committed_sum=%d' % sum(t.offset for t in committed))
lo, hi = c.get_watermark_offsets(TopicPartition('ckg', 0), timeout=10)
print('watermarks_ok=%d' % (lo == 0 and hi == committed[0].offset))
t = c.offsets_for_times([TopicPartition('ckg', 0, 1700000000050)], timeout=10)
first = min(m.offset() for m in got if m.partition() == 0 and
            m.timestamp()[1] >= 1700000000050)
print('by_time_ok=%d' % (t[0].offset == first))
c.close()
groups = AdminClient({'bootstrap.servers': bs}).list_groups(timeout=10)
g = [x for x in groups if x.id == 'ckgroup']
print('listed=%d' % (len(g) == 1 and g[0].protocol_type == 'consumer'))
EOP
is($r->{acks_1}, 50, 'confluent-kafka: 50 delivered with acks=1');
is($r->{acks_all}, 50, 'confluent-kafka: 50 delivered with acks=all');
is($r->{consumed}, 100, 'group consumer: all 100');
is($r->{committed_ok}, 1, 'committed() returns the positions committed');
is($r->{committed_sum}, 100, 'commits cover all 100 records');
is($r->{watermarks_ok}, 1, 'get_watermark_offsets: 0 and the end');
is($r->{by_time_ok}, 1, 'offsets_for_times: the first record at or after');
is($r->{listed}, 1, 'list_groups shows the group (ListGroups, '
    . 'DescribeGroups)');

$r = py('kafka-python group', <<'EOP');
import sys
from kafka import KafkaConsumer, KafkaAdminClient, TopicPartition
bs = sys.argv[1]
c = KafkaConsumer('ckg', bootstrap_servers=bs, group_id='kpgroup',
                  auto_offset_reset='earliest', enable_auto_commit=False,
                  consumer_timeout_ms=4000, session_timeout_ms=6000)
got = [m for m in c]
print('consumed=%d' % len(got))
c.commit()
tps = [TopicPartition('ckg', i) for i in range(2)]
print('committed_sum=%d' % sum(c.committed(tp) for tp in tps))
c.close()
a = KafkaAdminClient(bootstrap_servers=bs)
offs = a.list_consumer_group_offsets('kpgroup')
print('admin_sum=%d' % sum(o.offset for o in offs.values()))
desc = a.describe_consumer_groups(['kpgroup'])[0]
print('state=%s' % desc.state)
a.close()
EOP
is($r->{consumed}, 100, 'kafka-python group consumer: all 100');
is($r->{committed_sum}, 100, 'kafka-python: committed() covers them');
is($r->{admin_sum}, 100, 'kafka-python admin: OffsetFetch for all topics');
is($r->{state}, 'Empty', 'kafka-python admin: the group is Empty after '
    . 'close (DescribeGroups)');

# A commit acknowledged just before kill -9 is there after the restart.
$r = py('commit, then kill -9', <<'EOP');
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'durable',
              'enable.auto.commit': False})
c.commit(offsets=[TopicPartition('ckg', 0, 37)], asynchronous=False)
print('done=1')
EOP
is($r->{done}, 1, 'a simple commit of offset 37 acknowledged');
$d->stop('KILL');
$d = Daemon->new(dir => $dir, args => \@args);
$r = py('after the restart', <<'EOP');
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'durable'})
print('committed=%d' % c.committed([TopicPartition('ckg', 0)],
                                   timeout=10)[0].offset)
EOP
is($r->{committed}, 37, 'the commit survived kill -9');

# Commits are written off the event loop, several together while a write
# is in flight: eight groups committing at once, each commit answered
# only once a write holds it, every last one there after kill -9.
$r = py('concurrent commits', <<'EOP');
import sys, threading
from confluent_kafka import Consumer, TopicPartition
acked = {}
def run(g):
    c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': g,
                  'enable.auto.commit': False})
    for off in range(1, 61):
        c.commit(offsets=[TopicPartition('ckg', 0, off),
                          TopicPartition('ckg', 1, 1000 + off)],
                 asynchronous=False)
        acked[g] = off
threads = [threading.Thread(target=run, args=('conc-%d' % i,))
           for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print('acked=%d' % sum(acked.values()))
EOP
is($r->{acked}, 8 * 60, 'eight groups: 60 commits each acknowledged');
$d->stop('KILL');
$d = Daemon->new(dir => $dir, args => \@args);
$r = py('after the restart', <<'EOP');
import sys
from confluent_kafka import Consumer, TopicPartition
ok = 0
for i in range(8):
    c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'conc-%d' % i})
    got = c.committed([TopicPartition('ckg', 0), TopicPartition('ckg', 1)],
                      timeout=10)
    ok += got[0].offset == 60 and got[1].offset == 1060
print('ok=%d' % ok)
EOP
is($r->{ok}, 8, 'every group\'s last commit survived kill -9');

# Retention trims committed offsets: OFFSET_OUT_OF_RANGE, then
# auto.offset.reset, in both clients.
$r = py('retention trims a commit', <<'EOP');
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
bs = sys.argv[1]
p = Producer({'bootstrap.servers': bs, 'linger.ms': 5})
for i in range(10):
    p.produce('oor', partition=0, value=b'small')
p.flush(20)
for g in ('ck-oor', 'kp-oor'):
    c = Consumer({'bootstrap.servers': bs, 'group.id': g,
                  'enable.auto.commit': False})
    c.commit(offsets=[TopicPartition('oor', 0, 5)], asynchronous=False)
    c.close()
for i in range(3000):
    p.produce('oor', partition=0, value=b'x' * 1000)
    if i % 500 == 0:
        p.flush(20)
p.flush(20)
c = Consumer({'bootstrap.servers': bs, 'group.id': 'probe'})
for _ in range(50):
    lo, hi = c.get_watermark_offsets(TopicPartition('oor', 0), timeout=10)
    if lo > 5:
        break
    time.sleep(0.2)
print('start=%d' % lo)
print('end=%d' % hi)
EOP
cmp_ok($r->{start}, '>', 5, 'retention moved the log start past offset 5');

my $start = $r->{start};
$r = py('confluent-kafka resets', <<'EOP', $start);
import sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'ck-oor',
              'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe(['oor'])
first = None
end = time.time() + 30
while first is None and time.time() < end:
    m = c.poll(0.5)
    if m is not None and not m.error() and m.partition() == 0:
        first = m.offset()
print('first=%d' % (first if first is not None else -1))
c.close()
EOP
is($r->{first}, $start, 'confluent-kafka: earliest retained record after '
    . 'OFFSET_OUT_OF_RANGE');
$r = py('kafka-python resets', <<'EOP', $start);
import sys
from kafka import KafkaConsumer
c = KafkaConsumer('oor', bootstrap_servers=sys.argv[1], group_id='kp-oor',
                  auto_offset_reset='earliest', enable_auto_commit=False,
                  consumer_timeout_ms=5000)
m = next(iter(c), None)
print('first=%d' % (m.offset if m is not None else -1))
c.close()
EOP
is($r->{first}, $start, 'kafka-python: earliest retained record after '
    . 'OFFSET_OUT_OF_RANGE');
is($d->stop, 0, 'clean exit');
done_testing();
