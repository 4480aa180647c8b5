# SIGHUP, many times over, while the feed runs and clients produce and
# fetch: every reload changes the symbol list, and the daemon keeps
# serving on a configuration that stays alive as long as anything uses
# it (the sanitizer build in CI turns any use of a freed one into a
# failure here).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd start_proc stop_proc tmult);

my $token = 'hup-test-token';
my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
    '--rate', '500']);
my $d = Daemon->new(no_start => 1, log_level => 'info');
my $conf = $d->dir . '/finnstream.conf';
my @sets = ('AAPL,MSFT', 'AAPL,TSLA,BINANCE:BTCUSDT', 'MSFT',
    'NVDA,AMD,INTC,AAPL');
sub write_conf {
	my ($syms, $extra) = @_;
	open(my $fh, '>', $conf) or die;
	print $fh "feed finnhub\nfeed_url " . $sim->url . "\nsymbols $syms\n";
	print $fh $extra if $extra;
	close $fh;
}
write_conf($sets[0]);
$d->{args} = [@{$d->{args}}, '-c', $conf];
$d->{env} = {FINNHUB_TOKEN => $token};
$d->start;
ok($d->log_like(qr/subscribed|connected/i, 10), 'the feed is up')
    or diag($d->log);

# A consumer that fetches for the whole test, and producers in between.
my $kcat = $ENV{KCAT} || 'kcat';
my $cons = start_proc([$kcat, '-b', $d->kafka, '-C', '-t', 'trades',
    '-o', 'beginning', '-q'], $d->dir . '/cons.out', $d->dir . '/cons.err');

my $produced = 0;
for my $i (1 .. 50) {
	# Every tenth reload carries an error: the old configuration stays.
	write_conf($sets[$i % @sets], $i % 10 == 0 ? "partitions -3\n" : '');
	kill 'HUP', $d->pid;
	if ($i % 5 == 0) {
		my ($st) = run_cmd([$kcat, '-b', $d->kafka, '-P', '-t',
		    'hup-other', '-k', "k$i"], 20, undef, "v$i\n");
		$produced++ if $st == 0;
	}
	sleep 0.05;
}
is($produced, 10, 'every produce between reloads succeeded');
my $reloads = () = $d->log =~ /symbols reloaded/g;
cmp_ok($reloads, '>=', 30, "the reloads took effect ($reloads)");
like($d->log, qr/keeping the old one/,
    'a reload with errors keeps the old configuration');
ok($d->alive, 'the daemon survived 50 SIGHUPs');

# Still serving: the end offsets move, and the consumer is still reading.
my $n1 = $d->count('trades', 4);
sleep 0.5;
cmp_ok($d->count('trades', 4), '>', $n1, 'trades keep arriving');
my ($st, $out) = run_cmd([$kcat, '-b', $d->kafka, '-C', '-t', 'hup-other',
    '-o', 'beginning', '-e', '-q'], 20);
is(scalar(() = $out =~ /^v\d+$/mg), 10, 'the produced records read back');
stop_proc($cons, 5);
cmp_ok(-s $d->dir . '/cons.out', '>', 1000, 'the consumer fetched all along');
is($d->stop, 0, 'clean exit');
unlike($d->log, qr/AddressSanitizer|assertion failed|heap-use-after-free/,
    'no memory error') or diag($d->log);
done_testing();
