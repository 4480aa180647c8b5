# The finnhub feed against finnhub-sim: token, subscribe, trades, and
# recovery from every fault finnhub-sim injects.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd);

my $token = 'tok-' . $$;
my @syms = ('AAPL', 'BINANCE:BTCUSDT', 'MSFT');

sub daemon_for {
	my ($sim, @extra) = @_;
	return Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
	    $sim->url, '--symbols', join(',', @syms),
	    '--feed_backoff_max_ms', '200', @extra],
	    env => {FINNHUB_TOKEN => $token});
}

# 1. Trades flow; every symbol is subscribed once.
{
	my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '1000', '--require-token', $token]);
	my $d = daemon_for($sim);
	ok($d->log_like(qr/feed: connected, subscribed to 3 symbols/),
	    'connected and subscribed') or diag($d->log);
	ok($sim->log_like(qr/symbol=BINANCE:BTCUSDT/),
	    'finnhub-sim saw the subscriptions') or diag($sim->log);
	sleep 1;
	cmp_ok($d->count, '>', 100, 'trades arrived');
	unlike($d->log, qr/\Q$token\E/, 'the token is in no log line');
	is($d->stop, 0, 'clean exit');
}

# 2. A wrong token: HTTP 401, logged clearly, retried with back-off.
{
	my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '100', '--require-token', 'other']);
	my $d = daemon_for($sim);
	ok($d->log_like(qr/401/, 5), 'a rejected token is logged as HTTP 401')
	    or diag($d->log);
	ok($d->alive, 'and the daemon keeps running');
	unlike($d->log, qr/\Q$token\E/, 'without the token');
	$d->stop;
}

# 3. Faults: drop, stall, error message, malformed JSON, oversized frame.
# Each applies to the first connection only; the daemon must reconnect,
# resubscribe and keep ingesting.
my @faults = (
	['drop', ['--drop-after-ms', '300'], qr/disconnected|reconnect/i],
	['stall', ['--stall-after-ms', '300'], qr/stall/i],
	['oversized frame', ['--oversize-after-ms', '300'],
	    qr/too big|1009|over|large/i],
);
for my $f (@faults) {
	my ($name, $args, $logre) = @$f;
	my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '1000', '--faults-conns', '1', @$args]);
	my $d = daemon_for($sim, '--feed_stall_ms', '500');
	ok($d->log_like($logre, 10), "$name: noticed") or diag($d->log);
	ok($sim->log_like(qr/subscribe conn=2 symbol=MSFT/, 10),
	    "$name: reconnected and resubscribed") or diag($sim->log);
	my $before = $d->count;
	sleep 0.5;
	cmp_ok($d->count, '>', $before, "$name: trades flow again");
	is($d->stop, 0, "$name: clean exit");
}

# 4. Finnhub error messages and malformed JSON cost nothing else.
{
	my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '1000', '--error-after-ms', '200',
	    '--malformed-every', '10']);
	my $d = daemon_for($sim);
	ok($d->log_like(qr/Finnhub error: Subscribing to too many symbols/),
	    'an error message is logged clearly') or diag($d->log);
	sleep 0.5;
	my $n = $d->count;
	cmp_ok($n, '>', 100, 'well-formed trades still arrive');
	ok($d->alive, 'the daemon keeps serving');
	is($d->stop, 0, 'clean exit');
}

# 5. SIGHUP reloads the symbol list: the difference is unsubscribed and
# subscribed on the open connection.
{
	my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '200']);
	my $d = Daemon->new(no_start => 1);
	my $conf = $d->dir . '/finnstream.conf';
	my $write = sub {
		open(my $fh, '>', $conf) or die;
		print $fh "feed finnhub\nfeed_url " . $sim->url .
		    "\nsymbols $_[0]\n";
		close $fh;
	};
	$write->('AAPL,MSFT');
	$d->{args} = [@{$d->{args}}, '-c', $conf];
	$d->{env} = {FINNHUB_TOKEN => $token};
	$d->start;
	ok($sim->log_like(qr/subscribe conn=1 symbol=MSFT/),
	    'subscribed from the config file') or diag($sim->log);
	$write->('AAPL,TSLA');
	kill 'HUP', $d->pid;
	ok($sim->log_like(qr/unsubscribe conn=1 symbol=MSFT/),
	    'SIGHUP: a removed symbol is unsubscribed') or diag($sim->log);
	ok($sim->log_like(qr/subscribe conn=1 symbol=TSLA/),
	    'SIGHUP: an added symbol is subscribed on the same connection')
	    or diag($sim->log);
	unlike($sim->log, qr/conn=2/, 'without reconnecting');
	ok($d->log_like(qr/symbols reloaded: 1 subscribed, 1 unsubscribed/),
	    'and the daemon says so') or diag($d->log);
	is($d->stop, 0, 'clean exit');
}

done_testing();
