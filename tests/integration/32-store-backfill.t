# Trades produced by a client into `trades` (a backfill, here five days
# old and today) go through the aggregator exactly like the feed's;
# records that are not valid trades are counted and skipped; retention
# by age removes whole old days of one table and keeps the other; the
# three fsync modes store the same.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Daemon qw(run_cmd tmult);
use StoreCheck;

plan skip_all => 'kcat not found' unless $ENV{KCAT} && -x $ENV{KCAT};

my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
    '--sequence', '--rate', '500', '--ping-ms', '0']);
my $dir = tempdir(CLEANUP => 1);
my @args = ('--feed', 'finnhub', '--feed_url', $sim->url,
    '--symbols', 'AAPL', '--partitions', '2', '--store_flush_ms', '100',
    '--feed_backoff_max_ms', '100');
my %env = (FINNHUB_TOKEN => 'backfill');

# The old trades start on a whole second, so their 10 trades 250 ms apart
# (2.25 s) fall in exactly 3 one-second buckets, wherever the test runs.
my $now = int(time * 1000);
my $old = int(($now - 5 * 86400000) / 1000) * 1000;
my @lines;
for my $i (1 .. 20) {
	# Volumes far above the sim's sequence: every trade stays unique.
	my ($t, $p) = $i <= 10 ? ($old + $i * 250, "10.$i") : ($now - 60000 + $i * 250, "20.$i");
	my $v = 1000000000 + $i;
	my $c = $i % 2 ? 'null' : '["1"]';
	push @lines, qq(BACKFILL:{"s":"BACKFILL","p":$p,"v":$v,"t":$t,"c":$c});
}
push @lines, 'BACKFILL:not a trade at all';
push @lines, 'BACKFILL:{"s":"BACKFILL","p":1}';
push @lines, 'BACKFILL:{"s":"BACKFILL","p":-1,"v":1,"t":5}';

my $d = Daemon->new(dir => $dir, args => \@args, env => \%env);
ok($d->log_like(qr/store: commit \d+: [1-9]\d* trades/, 10),
    'the feed is stored') or diag($d->log);
my ($st, $out, $err) = $d->kcat(['-P', '-t', 'trades', '-K', ':',
    '-X', 'partitioner=murmur2_random'], 20, join("\n", @lines) . "\n");
is($st, 0, 'kcat produced the backfill') or diag($err);
sleep(1 * tmult());
is($d->stop, 0, 'clean stop');

my $s = StoreCheck::load("$dir/data");
my @bf = grep { $_->[0] eq 'BACKFILL' } @{$s->{trades}};
is(scalar(@bf), 20, 'the 20 produced trades are stored');
is_deeply([map { $_->[3] } @bf], [map { 1000000000 + $_ } 1 .. 20],
    'in the order they were produced');
is($bf[1][4], '["1"]', 'conditions as produced');
my ($invalid) = StoreCheck::dump_header("$dir/data") =~ /invalid (\d+)/;
cmp_ok($invalid, '>=', 3, "the 3 invalid records are counted ($invalid)");
StoreCheck::check($s, 3, 'backfill and feed');
my ($nbars_old) = scalar(grep { $_->[0] eq 'BACKFILL' && $_->[1] < $now - 86400000 }
    @{$s->{bars}});
is($nbars_old, 3, 'the old day has its 3 backfilled bars');

# Retention: trades of 2 days (today and yesterday), bars kept.
$d = Daemon->new(dir => $dir, args => [@args, '--trades_retention_days', '2'],
    env => \%env);
ok($d->log_like(qr/store: retention: trades before day \d+ removed/, 5),
    'retention removes the old day of trades') or diag($d->log);
sleep(0.5 * tmult());
is($d->stop, 0, 'clean stop');
$s = StoreCheck::load("$dir/data");
@bf = grep { $_->[0] eq 'BACKFILL' } @{$s->{trades}};
is(scalar(@bf), 10, "the old day's trades are gone, today's kept");
$nbars_old = grep { $_->[0] eq 'BACKFILL' && $_->[1] < $now - 86400000 }
    @{$s->{bars}};
is($nbars_old, 3, 'its bars are kept (bars_retention_days is off)');
($st, $out) = StoreCheck::verify("$dir/data");
is($st, 0, '--verify-store is clean') or diag($out);

# The fsync modes: each stores the sequence whole.
for my $mode ('always', 'never') {
	my $md = tempdir(CLEANUP => 1);
	my $e = Daemon->new(dir => $md, args => [@args, '--store_fsync', $mode],
	    env => \%env);
	ok($e->log_like(qr/store: commit \d+: [1-9]\d* trades/, 10),
	    "store_fsync $mode: commits") or diag($e->log);
	sleep(0.5 * tmult());
	is($e->stop, 0, "store_fsync $mode: clean stop");
	($st, $out) = StoreCheck::verify("$md/data");
	is($st, 0, "store_fsync $mode: --verify-store is clean") or diag($out);
	StoreCheck::check(StoreCheck::load("$md/data"), 1, "store_fsync $mode");
}
done_testing();
