# The default sim feed lands in topic "trades" as Finnhub JSON keyed by
# symbol, partitioned as Kafka's own clients partition, and kcat reads it.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd tmult);

my $py = '/usr/bin/python3';
my $d = Daemon->new(args => ['--sim_rate', '2000', '--symbols',
    'AAPL,MSFT,TSLA,BINANCE:BTCUSDT,BINANCE:ETHUSDT,BINANCE:DOGEUSDT,'
    . 'OANDA:EUR_USD']);
ok($d->log_like(qr/watch the trades: kcat -b 127\.0\.0\.1:\d+ -t trades -C/),
    'start-up says how to watch the trades');
sleep 1;

cmp_ok($d->count, '>', 1000, 'trades arrived');
# 250 from each partition, so every symbol shows up.
my @lines;
for my $p (0 .. 3) {
	my ($st, $out, $err) = $d->kcat(['-C', '-t', 'trades', '-p', $p,
	    '-o', 'beginning', '-c', '250', '-q', '-f',
	    '%p\t%o\t%k\t%s\n']);
	is($st, 0, "kcat -C -p $p -o beginning -c 250 exits 0") or diag($err);
	push @lines, split /\n/, $out;
}
my ($st, $out, $err);
cmp_ok(scalar(@lines), '>=', 500, 'and printed the trades of every partition');

my (%part_of, $bad, %seen_c, %offsets);
for my $l (@lines) {
	my ($p, $o, $k, $v) = split /\t/, $l, 4;
	my $t = eval { decode_json($v) };
	if (!$t || $t->{s} ne $k || !($t->{p} > 0) || $t->{t} !~ /^\d{13}$/ ||
	    !defined $t->{v} || $t->{v} < 0 || !exists $t->{c}) {
		$bad++;
		diag("bad record: $l") if $bad < 5;
		next;
	}
	$seen_c{ref($t->{c}) eq 'ARRAY' ? 'array' : 'null'}++;
	push @{$part_of{$k}}, $p;
	$offsets{$p}{$o}++;
}
ok(!$bad, 'every record is a trade {"s","p","v","t","c"} keyed by symbol');
ok($seen_c{array} && $seen_c{null},
    'c is an array for stocks and null for crypto');
my $dup = grep { $_ > 1 } map { values %$_ } values %offsets;
ok(!$dup, 'offsets are unique per partition');
my $split = grep { my %u = map { $_ => 1 } @{$part_of{$_}}; keys(%u) > 1 }
    keys %part_of;
ok(!$split, 'each symbol stays in one partition');

# The partition is Kafka's murmur2 of the key, as kafka-python computes it.
my @keys = sort keys %part_of;
($st, $out, $err) = run_cmd([$py, '-c', <<'EOP', @keys], 20);
import sys
from kafka.partitioner.default import murmur2
for k in sys.argv[1:]:
    print(k, (murmur2(k.encode()) & 0x7fffffff) % 4)
EOP
is($st, 0, 'kafka-python computes murmur2') or diag($err);
my %want = map { split / / } split /\n/, $out;
my $mismatch = grep { $part_of{$_}[0] != $want{$_} } @keys;
ok(@keys >= 6 && !$mismatch,
    'partition = murmur2(symbol) % partitions for ' . scalar(@keys) .
    ' symbols');

# New trades reach a consumer waiting at the end within milliseconds.
($st, $out, $err) = run_cmd([$py, '-c', <<'EOP', $d->kafka], 60);
import sys, time
from confluent_kafka import Consumer, TopicPartition, OFFSET_END
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'lat',
              'enable.auto.commit': False, 'fetch.wait.max.ms': 500})
c.assign([TopicPartition('trades', p, OFFSET_END) for p in range(4)])
lags = []
deadline = time.time() + 30
while len(lags) < 200 and time.time() < deadline:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    lags.append(time.time() * 1000 - m.timestamp()[1])
c.close()
lags.sort()
print(len(lags), lags[len(lags) // 2] if lags else -1, lags[-1] if lags else -1)
EOP
is($st, 0, 'confluent-kafka consumer at the end ran') or diag($err);
my ($n, $p50, $max) = split ' ', $out;
cmp_ok($n, '>=', 200, 'it saw new trades');
# The sim stamps a trade when it generates it; the ingest path and the
# long-poll wake-up add the rest.  Generous bounds: sanitizer builds.
cmp_ok($p50, '<', 100 * tmult(), "median lag ${p50} ms from trade time to consumer");
cmp_ok($max, '<', 1000 * tmult(), "max lag ${max} ms");

# kcat -o end sees trades that arrive after it starts.
($st, $out, $err) = $d->kcat(['-C', '-t', 'trades', '-o', 'end', '-c', '20',
    '-q', '-f', '%k\n'], 20);
is($st, 0, 'kcat -o end -c 20 gets 20 new trades') or diag($err);
is(scalar(split /\n/, $out), 20, 'exactly 20');

is($d->stop, 0, 'clean exit');
like($d->log, qr/trades: \d+ received/, 'shutdown reports the counts');
done_testing();
