# The store survives kill -9 at random moments during ingest.  The feed
# is finnhub-sim --sequence: every trade's volume is the next number of
# one sequence, so each trade can be told apart.  Several rounds of
# start, ingest, kill -9, then a clean run; after each kill
# --verify-store is clean; in the end no trade is stored twice, every
# trade the daemon reported as committed (its "store: commit" lines) is
# there, what is stored is whole runs of the sequence (one per round:
# the log's one partition is committed as a prefix), and the bars equal
# a recomputation from the stored trades, exactly.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd tmult);
use StoreCheck;

my $rounds = 4;
my $dir = tempdir(CLEANUP => 1);
my $data = "$dir/data";
my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
    '--sequence', '--rate', '4000', '--trades-per-frame', '4',
    '--ping-ms', '0']);
my @args = ('--feed', 'finnhub', '--feed_url', $sim->url,
    '--symbols', 'AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD',
    '--partitions', '1', '--store_flush_ms', '100',
    '--feed_backoff_max_ms', '100');
my %env = (FINNHUB_TOKEN => 'crash-test');

sub verify {
	my ($what) = @_;
	my ($st, $out) = StoreCheck::verify($data);
	is($st, 0, "$what: --verify-store is clean") or diag($out);
	return $out;
}

# The largest total of trades the daemon's log says it committed.
sub committed {
	my ($log) = @_;
	my $max = 0;
	while ($log =~ /store: commit \d+: (\d+) trades/g) {
		$max = $1 if $1 > $max;
	}
	return $max;
}

srand($ENV{CRASH_SEED} || time);
my $reported = 0;
for my $round (1 .. $rounds) {
	my $d = Daemon->new(dir => $dir, args => \@args, env => \%env);
	ok($d->log_like(qr/store: commit \d+: \d+ trades/, 10),
	    "round $round: commits are logged") or diag($d->log);
	sleep((0.3 + rand(1.2)) * tmult());
	$d->stop('KILL');
	my $c = committed($d->log);
	cmp_ok($c, '>=', $reported, "round $round: $c trades committed");
	$reported = $c;
	my $out = verify("round $round, after kill -9");
	note($out);
}

my $d = Daemon->new(dir => $dir, args => \@args, env => \%env);
like($d->log, qr/store: \S+ at commit \d+: \d+ trades, \d+ bars; recovery/,
    'the last restart logs what recovery did');
ok($d->log_like(qr/store: commit \d+: \d+ trades/, 10), 'ingesting again');
sleep(0.5 * tmult());
is($d->stop, 0, 'a clean stop');
$reported = committed($d->log) if committed($d->log) > $reported;
verify('after a clean stop');

my $s = StoreCheck::load($data);
cmp_ok(scalar(@{$s->{trades}}), '>=', $reported,
    'every trade reported committed is stored');
StoreCheck::check($s, $rounds + 1, 'after the rounds');
done_testing();
