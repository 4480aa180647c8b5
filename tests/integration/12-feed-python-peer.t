# The finnhub feed against an independent websocket server written with
# python3-websockets: subscribe, trades, and a dropped upstream re-joined.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Daemon;

my $py = '/usr/bin/python3';
my $peer_script = "$ENV{top_srcdir}/tests/integration/lib/finnhub_peer.py";
my $have = system($py, '-c', 'import websockets') == 0;
plan skip_all => 'python3-websockets is not installed' unless $have;

my $peer = Daemon::Sim->new(cmd => [$py, $peer_script, '--port', '0',
    '--drop-after-ms', '700', '--trades-per-second', '500']);
my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url', $peer->url,
    '--symbols', 'AAPL,BINANCE:ETHUSDT', '--feed_backoff_max_ms', '200'],
    env => {FINNHUB_TOKEN => 'peer-token'});

ok($d->log_like(qr/feed: connected, subscribed to 2 symbols/),
    'connected to the python peer') or diag($d->log);
ok($d->log_like(qr/feed: disconnected/, 10), 'the peer dropped us')
    or diag($d->log);
ok($d->log_like(qr/feed: connected.*\n(.*\n)*.*feed: connected/, 10),
    're-joined after the drop') or diag($d->log);
ok($peer->log_like(qr/subscribe.*ETHUSDT(.*\n)+.*subscribe.*ETHUSDT/, 10),
    'and resubscribed') or diag($peer->log);
# AAPL hashes to partition 1 and BINANCE:ETHUSDT to 2 (of 4).
my %keys;
for my $p (1, 2) {
	my ($st, $out) = $d->kcat(['-C', '-t', 'trades', '-p', $p, '-o',
	    'beginning', '-c', '10', '-q', '-f', '%k\n']);
	$keys{$_}++ for split /\n/, $out;
}
ok($keys{AAPL} && $keys{'BINANCE:ETHUSDT'},
    'trades of both symbols are in the log') or diag(explain(\%keys));
is($d->stop, 0, 'clean exit');
done_testing();
