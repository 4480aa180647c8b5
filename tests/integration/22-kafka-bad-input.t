# Bad input on the Kafka port costs only that connection: an oversized
# frame (refused from its size prefix alone), a truncated frame, an
# unknown API key, an unsupported version, garbage.  The daemon logs each
# with the peer's address and keeps serving kcat.  ApiVersions newer than
# served is the exception the protocol allows: error 35, connection kept.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Daemon qw(tmult);

my $d = Daemon->new(args => ['--sim_rate', '100']);

sub conn {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $d->port, Proto => 'tcp') or die "connect: $!";
	binmode $s;
	return $s;
}

# A request frame: size, api_key, api_version, correlation_id, client_id
# (header v1), the header v2 tag byte when $flex, then the body.
sub frame {
	my ($key, $ver, $corr, $body, $flex) = @_;
	my $h = pack('n n N n/a*', $key, $ver, $corr, 'bad-input-test');
	$h .= "\0" if $flex;
	my $p = $h . ($body // '');
	return pack('N', length $p) . $p;
}

# The next response frame's payload, '' on EOF, undef on timeout.  Bytes
# past that frame wait in %pending for the next call.
my %pending;
sub read_frame {
	my ($s, $secs) = @_;
	my $sel = IO::Select->new($s);
	my $buf = \($pending{$s} //= '');
	my $end = time + ($secs || 3) * tmult();
	while (time < $end) {
		if (length($$buf) >= 4) {
			my $n = unpack('N', $$buf);
			if (length($$buf) >= 4 + $n) {
				my $f = substr($$buf, 4, $n);
				substr($$buf, 0, 4 + $n) = '';
				return $f;
			}
		}
		next unless $sel->can_read(0.05);
		my $r = sysread($s, $$buf, 65536, length $$buf);
		return '' if !$r;
	}
	return undef;
}

sub closed_ok {
	my ($s, $what) = @_;
	my $r = read_frame($s, 3);
	ok(defined $r && $r eq '', "$what: the connection is closed");
}

sub still_serving {
	my ($what) = @_;
	my ($st, $out, $err) = $d->kcat(['-L'], 20);
	ok($st == 0 && $out =~ /topic "trades"/,
	    "$what: kcat -L still works") or diag($err);
}

# ApiVersions newer than served (v5; Kafka 3.9 serves up to v4): answered
# in the v0 layout with UNSUPPORTED_VERSION, and the connection stays open
# for the retry.
my $s = conn();
print $s frame(18, 5, 7, "\x05bad\x041.0\0", 1);
my $r = read_frame($s);
ok(defined $r && length($r) >= 10, 'ApiVersions v5 answered');
my ($corr, $errc, $n) = unpack('N n N', $r // '');
is($corr, 7, 'with its correlation id');
is($errc, 35, 'error 35 UNSUPPORTED_VERSION');
is(length($r // '') - 10, 6 * ($n // 0), 'in the v0 layout (key, min, max)');
print $s frame(18, 0, 8, '');
$r = read_frame($s);
($corr, $errc) = unpack('N n', $r // '');
ok($corr == 8 && $errc == 0, 'the v0 retry on the same connection works');
my %api = map { my ($k, $lo, $hi) = unpack('n n n', substr($r, 10 + 6 * $_, 6));
    ($k => "$lo-$hi") } 0 .. (unpack('N', substr($r // '', 6, 4)) - 1);
is_deeply(\%api, {0 => '3-11', 1 => '4-17', 2 => '0-9', 3 => '0-12',
    8 => '2-9', 9 => '1-9', 10 => '0-6', 11 => '0-9', 12 => '0-4',
    13 => '0-5', 14 => '0-5', 15 => '0-5', 16 => '0-5', 18 => '0-4'},
    'advertising only what is implemented');
close $s;

# An oversized frame: refused from the size prefix, nothing else sent.
$s = conn();
print $s pack('N', 0x7ffffff0);
closed_ok($s, 'a 2 GiB size prefix');
ok($d->log_like(qr/127\.0\.0\.1:\d+: kafka: request of 2147483632 bytes is over max_request_bytes/),
    'logged with the peer address');
still_serving('after an oversized frame');

# A frame just over the default max_request_bytes (16 MiB).
$s = conn();
print $s pack('N', 16 * 1024 * 1024 + 1) . ("\0" x 100);
closed_ok($s, 'max_request_bytes + 1');

# Truncated: half a frame, then silence; then half a frame and EOF.
my $slow = conn();
print $slow pack('N', 100) . ("\0" x 10);
still_serving('while a truncated frame waits for its rest');
$s = conn();
print $s pack('N', 100) . ("\0" x 10);
shutdown($s, 1);
closed_ok($s, 'a truncated frame then EOF');
close $slow;

# An unknown API key: Kafka closes the connection, so do we.
$s = conn();
print $s frame(99, 0, 9, '');
closed_ok($s, 'unknown API key 99');
ok($d->log_like(qr/unsupported API key 99 .*client "bad-input-test"/),
    'logged with the key and the client id');

# A known API at a version not served (Fetch v18, newer than Kafka 3.9).
$s = conn();
print $s frame(1, 18, 10, "\0" x 40, 1);
closed_ok($s, 'Fetch v18');
ok($d->log_like(qr/Fetch v18 from client "bad-input-test" is not supported/),
    'logged with the version');

# A body that does not parse.
$s = conn();
print $s frame(3, 1, 11, pack('N', 1000));
closed_ok($s, 'Metadata claiming 1000 topics in 4 bytes');

# Garbage: an HTTP request on the Kafka port.
$s = conn();
print $s "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
closed_ok($s, 'HTTP on the Kafka port');

# Pipelined good requests before a bad one are all answered first.
$s = conn();
print $s frame(18, 0, 21, '') . frame(18, 1, 22, '') . frame(99, 0, 23, '');
my @c = map { my $f = read_frame($s); defined $f && length $f ?
    unpack('N', $f) : -1 } 1 .. 2;
is_deeply(\@c, [21, 22], 'requests before a bad one are answered in order');
closed_ok($s, 'then the connection is closed');

still_serving('after all of it');
ok($d->alive, 'the daemon is still running');
is($d->stop, 0, 'clean exit');
done_testing();
