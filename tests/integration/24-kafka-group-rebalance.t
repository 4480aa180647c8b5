# A group of two members splits a four-partition topic; when one leaves
# (SIGTERM: LeaveGroup) or is killed (SIGKILL: found by its session
# timeout), the other takes over its partitions.  Members are
# tests/integration/lib/group_member.py processes: librdkafka
# (confluent-kafka) and kafka-python.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Daemon qw(run_cmd start_proc stop_proc slurp tmult);

my $py = $ENV{PYTHON3} || '/usr/bin/python3';
$py = '/usr/bin/python3' unless -x $py;
plan skip_all => 'python3-kafka and python3-confluent-kafka are needed'
    unless system($py, '-c', 'import kafka, confluent_kafka') == 0;

my $session_ms = 6000;
my $d = Daemon->new(args => ['--sim_rate', '50', '--partitions', '4',
    '--group_initial_rebalance_delay_ms', '300']);
my $member = "$ENV{top_srcdir}/tests/integration/lib/group_member.py";
my $tmp = tempdir(CLEANUP => 1);
my $n = 0;

# Records in every partition of the topic, so members have work.
my ($st, $out, $err) = $d->kcat(['-P', '-t', 'split', '-K', ':', '-X',
    'partitioner=murmur2_random'], 20,
    join('', map { "k$_:v$_\n" } 1 .. 400));
is($st, 0, 'produced 400 keyed records into "split"') or diag($err);

sub start_member {
	my ($client, $group) = @_;
	my $f = "$tmp/m" . ++$n;
	my $pid = start_proc([$py, $member, $client, $d->kafka, $group,
	    'split', $session_ms], "$f.out", "$f.err");
	return {pid => $pid, out => "$f.out", err => "$f.err", name => $f};
}

# The member's latest assignment: (time ms, [partitions]) or ().
sub latest {
	my ($m) = @_;
	my @a = slurp($m->{out}) =~ /^assigned (\d+) (\S+)$/mg;
	return () unless @a;
	my ($t, $p) = @a[-2, -1];
	return ($t, [$p eq '-' ? () : split /,/, $p]);
}

# Wait until cond(members) holds; returns true if it did in time.
sub wait_for {
	my ($secs, $cond) = @_;
	my $end = time + $secs * tmult();
	while (time < $end) {
		return 1 if $cond->();
		sleep 0.1;
	}
	return 0;
}

sub split_ok {
	my ($a, $b) = @_;
	my (undef, $pa) = latest($a);
	my (undef, $pb) = latest($b);
	return 0 unless $pa && $pb && @$pa && @$pb;
	my %seen;
	$seen{$_}++ for @$pa, @$pb;
	return keys(%seen) == 4 && !grep { $_ > 1 } values %seen;
}

sub has_all {
	my ($m, $after) = @_;
	my ($t, $p) = latest($m);
	return $p && @$p == 4 && $t >= $after;
}

for my $client ('ck', 'kp') {
	my $group = "split-$client";
	my $a = start_member($client, $group);
	ok(wait_for(30, sub { has_all($a, 0) }),
	    "$client: the first member gets all four partitions")
	    or diag(slurp($a->{out}) . slurp($a->{err}));
	my $b = start_member($client, $group);
	ok(wait_for(30, sub { split_ok($a, $b) }),
	    "$client: a second member: the partitions are split between them")
	    or diag(slurp($a->{out}) . slurp($b->{out}) . slurp($b->{err}));

	# A member that leaves: the other has everything at once.
	my $t0 = time * 1000;
	stop_proc($b->{pid}, 20);
	ok(wait_for(10, sub { has_all($a, $t0) }),
	    "$client: member B leaves: A takes its partitions");
	my ($t) = latest($a);
	my $left_ms = int($t - $t0);
	cmp_ok($left_ms, '<', $session_ms,
	    "$client: within the session timeout (${left_ms} ms)");
	diag("$client: takeover after LeaveGroup: $left_ms ms");

	# A member that is killed: found by its session timeout.
	my $c = start_member($client, $group);
	ok(wait_for(30, sub { split_ok($a, $c) }),
	    "$client: a third member joins: split again")
	    or diag(slurp($a->{out}) . slurp($c->{out}) . slurp($c->{err}));
	$t0 = time * 1000;
	kill 'KILL', $c->{pid};
	waitpid($c->{pid}, 0);
	ok(wait_for(($session_ms / 1000) + 10, sub { has_all($a, $t0) }),
	    "$client: member C is killed: A takes its partitions");
	($t) = latest($a);
	my $killed_ms = int($t - $t0);
	cmp_ok($killed_ms, '<', $session_ms + 3000 * tmult(),
	    "$client: within the session timeout and a rebalance "
	    . "(${killed_ms} ms)");
	diag("$client: takeover after SIGKILL: $killed_ms ms");
	stop_proc($a->{pid}, 20);
	like(slurp($a->{out}), qr/^closed \d+$/m,
	    "$client: member A closes cleanly");
}

ok($d->alive, 'the daemon is still running');
is($d->stop, 0, 'clean exit');
done_testing();
