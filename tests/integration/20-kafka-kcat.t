# kcat (librdkafka) against the Kafka listener: metadata, the feed's
# trades read from the beginning and from the end, and produce/consume
# round trips into trades and into a topic created on first use.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Daemon qw(tmult);

my $d = Daemon->new(args => ['--sim_rate', '1000', '--partitions', '4',
    '--symbols', 'AAPL,MSFT,BINANCE:BTCUSDT,BINANCE:ETHUSDT']);
my $port = $d->port;

# kcat -L: one broker (the controller) at the advertised address, topic
# trades with 4 partitions, each led by node 1 with replicas = ISR = [1].
my ($st, $out, $err) = $d->kcat(['-L']);
is($st, 0, 'kcat -L exits 0') or diag($err);
like($out, qr/broker 1 at 127\.0\.0\.1:$port \(controller\)/,
    'one broker, the controller, at the advertised address');
like($out, qr/topic "trades" with 4 partitions:/,
    'topic trades with 4 partitions');
my @led = $out =~ /partition (\d+), leader 1, replicas: 1, isrs: 1/g;
is_deeply([sort @led], [0 .. 3], 'each partition: leader 1, replicas [1], ISR [1]');

# kcat -Q: ListOffsets v1 for the latest offset of each partition.
sleep 1;
($st, $out, $err) = $d->kcat(['-Q', map { ('-t', "trades:$_:-1") } 0 .. 3]);
is($st, 0, 'kcat -Q exits 0') or diag($err);
my %end = $out =~ /trades \[(\d+)\] offset (\d+)/g;
is(scalar(keys %end), 4, 'an end offset for each partition');
my $total = 0;
$total += $_ for values %end;
cmp_ok($total, '>', 200, "the feed's trades are there ($total)");

# From the beginning, every offset exactly once.  (A live topic never sits
# at its end on every partition at once, so kcat -e would not stop: read
# up to the end offset just queried, per partition.)
my $gaps = 0;
for my $p (grep { $end{$_} > 0 } 0 .. 3) {
	my $n = $end{$p} < 200 ? $end{$p} : 200;
	($st, $out, $err) = $d->kcat(['-C', '-t', 'trades', '-p', $p, '-o',
	    'beginning', '-c', $n, '-q', '-f', '%o\n']);
	next if $st == 0 && $out eq join('', map { "$_\n" } 0 .. $n - 1);
	$gaps++;
	diag("partition $p: status $st, " . substr($out, 0, 60) . " $err");
}
is($gaps, 0, 'each partition from offset 0, no gap, no duplicate');

# -o end: only trades appended after it started, and quickly.
my $t0 = time;
($st, $out, $err) = $d->kcat(['-C', '-t', 'trades', '-o', 'end', '-c', '50',
    '-q', '-f', '%p %o\n'], 20);
my $dt = time - $t0;
is($st, 0, 'kcat -C -o end -c 50 exits 0') or diag($err);
my @new = map { [split] } split /\n/, $out;
is(scalar(@new), 50, '50 new trades');
my $old = grep { defined $end{$_->[0]} && $_->[1] < $end{$_->[0]} } @new;
is($old, 0, 'none of them from before');
cmp_ok($dt, '<', 5 * tmult(), sprintf('within %.2f s at 1000 trades/s', $dt));

# Produce into trades (a keyed backfill trade), read it back.
my $trade = '{"s":"AAPL","p":189.5,"v":10,"t":1700000000000,"c":["1"]}';
($st, $out, $err) = $d->kcat(['-P', '-t', 'trades', '-k', 'AAPL',
    '-X', 'partitioner=murmur2_random'], 20, "$trade\n");
is($st, 0, 'kcat -P into trades exits 0') or diag($err);
# Everything up to the end offsets queried now (the trade was acked
# before), partition by partition: kcat -e would not stop on a live topic.
($st, $out, $err) = $d->kcat(['-Q', map { ('-t', "trades:$_:-1") } 0 .. 3]);
%end = $out =~ /trades \[(\d+)\] offset (\d+)/g;
$out = '';
for my $p (grep { $end{$_} > 0 } 0 .. 3) {
	my ($pst, $pout) = $d->kcat(['-C', '-t', 'trades', '-p', $p, '-o',
	    'beginning', '-c', $end{$p}, '-q', '-f', '%p %k %s\n'], 30);
	$out .= $pout;
}
my @mine = grep { / AAPL \Q$trade\E$/ } split /\n/, $out;
is(scalar(@mine), 1, 'the produced trade is in trades, once');
my %aapl_parts = map { (split)[0] => 1 } grep { / AAPL \{/ } split /\n/, $out;
is(scalar(keys %aapl_parts), 1,
    'in the same partition as the feed\'s AAPL trades (murmur2)');

# A topic created on first use by Produce; exact round trip, in order.
($st, $out, $err) = $d->kcat(['-P', '-t', 'othertopic', '-p', '2'], 20,
    "one\ntwo\nthree\n");
is($st, 0, 'kcat -P into a new topic exits 0') or diag($err);
($st, $out, $err) = $d->kcat(['-C', '-t', 'othertopic', '-p', '2', '-o',
    'beginning', '-e', '-q', '-f', '%o %s\n']);
is($out, "0 one\n1 two\n2 three\n", 'read back exactly, offsets 0-2');
($st, $out) = $d->kcat(['-L', '-t', 'othertopic']);
like($out, qr/topic "othertopic" with 4 partitions/,
    'created with the configured partition count');
ok($d->log_like(qr/created topic othertopic with 4 partitions/),
    'and the creation is logged');

# Larger records go by reference too: a 200 KiB value round trips.
my $big = 'x' x (200 * 1024);
($st, $out, $err) = $d->kcat(['-P', '-t', 'bigtopic', '-p', '0'], 20,
    "$big\n");
is($st, 0, 'a 200 KiB record produced') or diag($err);
($st, $out, $err) = $d->kcat(['-C', '-t', 'bigtopic', '-p', '0', '-o',
    'beginning', '-e', '-q', '-f', '%S\n']);
is($out, (200 * 1024) . "\n", 'and fetched whole');

# Timestamps: -o s@TS starts at the first record at or after TS.
($st, $out) = $d->kcat(['-C', '-t', 'othertopic', '-p', '2', '-o',
    's@1', '-c', '1', '-q', '-f', '%o\n'], 20);
is($out, "0\n", 'kcat -o s@1 (ListOffsets v1 by time) starts at 0');

is($d->stop, 0, 'clean exit');
done_testing();
