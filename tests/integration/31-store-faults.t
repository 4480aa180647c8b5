# Injected write and fsync failures (FINNSTREAM_TEST_FAULTS, the test
# hook of storage/osfile.c): failed, torn and unsynced writes of the
# store's tail, commit records, day files and the log's lease file leave
# a store that verifies, whose trades are each stored once with bars that
# match them, and a daemon that keeps serving the log; writes that keep
# failing do not stop the log either; and an error that cannot be undone
# (the cut-back fails too) stops the store, not the daemon.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd tmult);
use StoreCheck;

my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
    '--sequence', '--rate', '3000', '--trades-per-frame', '3',
    '--ping-ms', '0']);
my @args = ('--feed', 'finnhub', '--feed_url', $sim->url,
    '--symbols', 'AAPL,MSFT,BINANCE:BTCUSDT', '--partitions', '1',
    '--store_flush_ms', '50', '--feed_backoff_max_ms', '100');

sub run_with {
	my ($what, $faults, $secs, $expect) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $d = Daemon->new(dir => $dir, args => \@args,
	    env => {FINNHUB_TOKEN => 'faults', FINNSTREAM_TEST_FAULTS => $faults});
	ok($d->log_like($expect, $secs), "$what: the failure is logged")
	    or diag($d->log);
	ok($d->alive, "$what: the daemon runs on");
	my $n = $d->count('trades', 1);
	cmp_ok($n, '>', 0, "$what: the log serves ($n records)");
	my ($st, $out) = $d->kcat(['-C', '-t', 'trades', '-o', 'beginning',
	    '-c', '5', '-e', '-q'], 20);
	is(scalar(() = $out =~ /"s":/g), 5, "$what: a consumer reads trades");
	is($d->stop, 0, "$what: a clean stop");
	return ($d, "$dir/data");
}

# 1. Transient: a failed tail write, a failed fsync, a torn write (half
# the bytes, then ENOSPC) a little later: each flush is retried and
# succeeds.
{
	my ($d, $data) = run_with('transient faults',
	    'write:20:1:eio,fsync:30:1,write:45:1:short',
	    10, qr/store: a flush failed.*\n(?s:.*)store: a flush failed/);
	like($d->log, qr/store: commit \d+: [1-9]\d* trades/,
	    'transient faults: commits go on after them');
	my ($st, $out) = StoreCheck::verify($data);
	is($st, 0, 'transient faults: --verify-store is clean') or diag($out);
	StoreCheck::check(StoreCheck::load($data), 1, 'transient faults');
}

# 2. Persistent: every write from the 15th on fails.  The store keeps
# retrying (with back-off) and stays as of its last commit.
{
	my ($d, $data) = run_with('writes keep failing', 'write:15:0:enospc',
	    10, qr/store: a flush failed: No space left on device; retrying/);
	my ($st, $out) = StoreCheck::verify($data);
	is($st, 0, 'writes keep failing: --verify-store is clean')
	    or diag($out);
	StoreCheck::check(StoreCheck::load($data), 1, 'writes keep failing');
}

# 3. An error that cannot be undone: every truncate after the store's
# first commit fails, so the next commit record (written, but not cut to
# its length) fails, and so does cutting the tail back.  The store stops
# writing; the daemon serves the log; the uncommitted bytes are what the
# next start cuts.
{
	my ($d, $data) = run_with('torn and uncut', 'truncate:2:0', 10,
	    qr/store: the store cannot write any more/);
	my ($st, $out) = StoreCheck::verify($data);
	is($st, 0, 'torn and uncut: --verify-store is clean') or diag($out);
	like($out, qr/bytes past the commit: a torn or uncommitted tail/,
	    'torn and uncut: the torn tail is reported as such');
	StoreCheck::check(StoreCheck::load($data), 1, 'torn and uncut');
	# The next start cuts it and goes on.
	my $dir = $data;
	$dir =~ s{/data$}{};
	my $e = Daemon->new(dir => $dir, args => \@args,
	    env => {FINNHUB_TOKEN => 'faults'});
	ok($e->log_like(qr/recovery cut [1-9]\d* bytes from 1 files/, 5),
	    'the next start cuts the torn tail') or diag($e->log);
	ok($e->log_like(qr/store: commit \d+: /, 10), 'and commits again');
	is($e->stop, 0, 'clean stop');
	($st, $out) = StoreCheck::verify($data);
	is($st, 0, 'after recovery: --verify-store is clean') or diag($out);
	StoreCheck::check(StoreCheck::load($data), 2, 'after recovery');
}
done_testing();
