# Malformed websocket frames from the upstream fail that connection only:
# the daemon counts it, reconnects and keeps serving.  The server here is a
# few lines of Perl that complete the handshake and then send bad frames.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
use POSIX qw(_exit);
use Daemon;

my @bad = (
	["reserved bits set", "\xf1\x02hi"],
	["unknown opcode 3", "\x83\x02hi"],
	["masked frame from a server", "\x81\x82\x01\x02\x03\x04ij"],
	["text that is not UTF-8", "\x81\x02\xff\xfe"],
	["fragmented control frame", "\x09\x00"],
	["64-bit length with the top bit set", "\x81\x7f\x80\0\0\0\0\0\0\x01x"],
);

my $srv = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
my $port = $srv->sockport;
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
	# Connection i gets bad frame i (then the list repeats).
	for (my $i = 0; ; $i++) {
		my $c = $srv->accept or next;
		my $req = '';
		while ($req !~ /\r\n\r\n/) {
			my $n = sysread($c, $req, 4096, length $req);
			last unless $n;
		}
		my ($key) = $req =~ /Sec-WebSocket-Key:\s*(\S+)/i;
		next unless $key;
		my $acc = encode_base64(sha1($key .
		    '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'), '');
		syswrite($c, "HTTP/1.1 101 Switching Protocols\r\n"
		    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    . "Sec-WebSocket-Accept: $acc\r\n\r\n");
		select(undef, undef, undef, 0.05);
		syswrite($c, $bad[$i % @bad][1]);
		select(undef, undef, undef, 0.2);
		close $c;
	}
	_exit(0);
}
close $srv;

my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
    "ws://127.0.0.1:$port", '--symbols', 'AAPL',
    '--feed_backoff_max_ms', '50'], env => {FINNHUB_TOKEN => 't'});
my $want = scalar @bad;
ok($d->log_like(qr/(feed: disconnected(.|\n)*){$want}/, 20),
    "each of $want bad frames failed its connection")
    or diag($d->log);
ok($d->log_like(qr/(feed: connected(.|\n)*){@{[$want + 1]}}/, 20),
    'and the daemon reconnected after each') or diag($d->log);
ok($d->alive, 'the daemon keeps serving');
my ($st, $out) = $d->kcat(['-L'], 20);
like($out, qr/topic "trades"/, 'and answers Kafka clients');
is($d->stop, 0, 'clean exit');
kill 'KILL', $pid;
waitpid($pid, 0);
done_testing();
