# kcat -G (librdkafka's balanced consumer) against the coordinator:
# committed offsets make a second run resume where the first stopped, also
# across a clean restart and a kill -9 of the daemon (never re-reading a
# committed record, never skipping one produced afterwards), and a
# committed offset that retention trimmed away gets OFFSET_OUT_OF_RANGE,
# after which auto.offset.reset decides.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(tmult);

my $dir = tempdir(CLEANUP => 1);
my @args = ('--sim_rate', '10', '--partitions', '2',
    '--group_initial_rebalance_delay_ms', '0');
my $d = Daemon->new(dir => $dir, args => \@args);
my $seq = 0;

sub produce {
	my ($topic, $n, $size) = @_;
	my $body = join('', map { sprintf("k%d:%s\n", ++$seq,
	    $size ? 'x' x $size : "v$seq") } 1 .. $n);
	my ($st, $out, $err) = $d->kcat(['-P', '-t', $topic, '-K', ':',
	    '-X', 'partitioner=murmur2_random'], 30, $body);
	is($st, 0, "produced $n into $topic") or diag($err);
}

# One group run to the end of every partition: [partition:offset, ...].
sub consume {
	my ($group, $topic, $reset) = @_;
	my ($st, $out, $err) = $d->kcat(['-G', $group, $topic, '-e', '-q',
	    '-f', '%p:%o\n', '-X', "auto.offset.reset=$reset",
	    '-X', 'session.timeout.ms=6000'], 60);
	is($st, 0, "kcat -G $group $topic ran") or diag($err);
	return [split /\n/, $out];
}

sub uniq_count {
	my %u = map { $_ => 1 } @{$_[0]};
	return scalar keys %u;
}

produce('gk', 100);
my $first = consume('g1', 'gk', 'earliest');
is(scalar @$first, 100, 'first run: all 100 records');
is(uniq_count($first), 100, 'each once');
is(scalar @{consume('g1', 'gk', 'earliest')}, 0,
    'second run: nothing, the commits hold');
produce('gk', 20);
my $more = consume('g1', 'gk', 'earliest');
is(scalar @$more, 20, 'after 20 more: exactly those 20');
my %old = map { $_ => 1 } @$first;
ok(!grep({ $old{$_} } @$more), 'none of them seen before');

# A clean restart: offsets and commits both continue.  With
# auto.offset.reset=latest a lost commit would skip the 15 records
# produced before the consumer starts.
is($d->stop, 0, 'SIGTERM: clean exit');
$d = Daemon->new(dir => $dir, args => \@args);
produce('gk', 15);
is(scalar @{consume('g1', 'gk', 'latest')}, 15,
    'after a clean restart: exactly the 15 new records (the commit held)');

# kill -9 right after a commit: the commit was durable before kcat saw it
# acknowledged; the log restarts past every offset it handed out.
produce('gk', 5);
is(scalar @{consume('g1', 'gk', 'earliest')}, 5, 'five more consumed');
$d->stop('KILL');
$d = Daemon->new(dir => $dir, args => \@args);
produce('gk', 7);
my $after = consume('g1', 'gk', 'earliest');
is(scalar @$after, 7, 'after kill -9: exactly the 7 new records, none '
    . 'committed before re-read');

# Retention trims a committed offset away: OFFSET_OUT_OF_RANGE, then the
# consumer's auto.offset.reset applies.
produce('rt', 10);
is(scalar @{consume('rg-early', 'rt', 'earliest')}, 10,
    'rg-early commits the first 10 records of rt');
is(scalar @{consume('rg-late', 'rt', 'earliest')}, 10,
    'rg-late too');
is($d->stop, 0, 'restart with a small retention');
$d = Daemon->new(dir => $dir, args => [@args,
    '--log_retention_bytes', '1m']);
produce('rt', 1500, 1000);
produce('rt', 1500, 1000);
my $start;
for (1 .. 50) {
	my $o = $d->offsets('rt', 2, -2);
	$start = $o;
	last if ($o->{0} // 0) > 100 && ($o->{1} // 0) > 100;
	sleep 0.2 * tmult();
}
ok(($start->{0} // 0) > 100 && ($start->{1} // 0) > 100,
    'retention trimmed the committed offsets away') or diag(explain($start));
my $end = $d->offsets('rt', 2, -1);
my $kept = ($end->{0} - $start->{0}) + ($end->{1} - $start->{1});
my $early = consume('rg-early', 'rt', 'earliest');
is(scalar @$early, $kept,
    "auto.offset.reset=earliest: every retained record ($kept)");
is(scalar @{consume('rg-late', 'rt', 'latest')}, 0,
    'auto.offset.reset=latest: nothing, it starts at the end');
is($d->stop, 0, 'clean exit');
done_testing();
