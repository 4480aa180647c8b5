# Bad input to the HTTP stage gets a 4xx with a JSON error and costs
# nothing else: malformed JSON, wrong types, unknown metrics and routes,
# inverted or absurd ranges, maxDataPoints of 0 or millions, bodies over
# http_max_body_bytes (refused from the head, before the body is sent),
# chunked bodies, oversized heads, broken request lines; slow and idle
# connections neither hang the daemon nor stop others being served;
# keep-alive, pipelining and HEAD work; many fresh connections in a row
# are all answered.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Daemon qw(tmult);
use HttpCheck;

my $d = Daemon->new(args => ['--feed', 'sim', '--sim_rate', '50',
    '--symbols', 'AAPL,MSFT', '--http_max_body_bytes', '4096',
    '--http_timeout_ms', '1000', '--http_max_connections', '40']);
my $h = HttpCheck->new($d->http);

# Wait until the sim's trades are queryable.
my $end = time + 10 * tmult();
my $ok = 0;
while (time < $end && !$ok) {
	my ($c, $j) = $h->get('/api/v1/series?metric=trades&symbols=AAPL'
	    . '&from=now-1m');
	$ok = $c == 200 && grep { defined } @{$j->{columns}{AAPL} || []};
	sleep 0.05;
}
ok($ok, 'the sim feed is queryable');

# Every refusal: the status, a JSON error, and the daemon goes on.
sub refused {
	my ($method, $path, $body, $status, $code, $what) = @_;
	my ($st, $j, $raw) = $h->request($method, $path, $body);
	is($st, $status, "$what: $status") or diag($raw);
	my @e = HttpCheck::error_errors($j);
	ok(!@e, "$what: a JSON error") or diag(join(', ', @e) . ": $raw");
	is($j->{error}{code}, $code, "$what: code $code") if defined $code;
	return $j;
}

my $q = sub { HttpCheck::encode({range => {from => 'now-5m', to => 'now'},
    targets => [{refId => 'A', target => 'price'}], @_}) };
refused('POST', '/grafana/query', '{"targets": [', 400, 'bad_request',
    'malformed JSON');
refused('POST', '/grafana/query', '', 400, 'bad_request', 'an empty body');
refused('POST', '/grafana/query', '[1,2,3]', 400, 'bad_request',
    'not an object');
refused('POST', '/grafana/query', '{"targets": {"target": "price"}}', 400,
    'bad_request', 'targets not an array');
refused('POST', '/grafana/query', $q->(maxDataPoints => '550'), 400,
    'bad_request', 'maxDataPoints a string');
refused('POST', '/grafana/query', $q->(intervalMs => [1]), 400,
    'bad_request', 'intervalMs an array');
my $j = refused('POST', '/grafana/query', HttpCheck::encode({targets =>
    [{refId => 'A', target => 'cpu_load'}]}), 400, 'unknown_metric',
    'an unknown metric');
like($j->{message}, qr/cpu_load.*price/, 'naming it and the served ones');
refused('POST', '/grafana/query', $q->(maxDataPoints => 0), 400,
    'out_of_range', 'maxDataPoints 0');
refused('POST', '/grafana/query', $q->(maxDataPoints => 5000000), 400,
    'out_of_range', 'maxDataPoints 5 million');
refused('POST', '/grafana/query', $q->(range => {from => 'now',
    to => 'now-1h'}), 400, 'out_of_range', 'an inverted range');
refused('POST', '/grafana/query', $q->(range => {from => -5, to => 5}),
    400, 'out_of_range', 'a range before the epoch');
refused('POST', '/grafana/query', $q->(range => {from => '0',
    to => '99999-01-01'}), 400, 'bad_request', 'a range to year 99999');
refused('POST', '/grafana/query', $q->(range => {from => 'yesterday',
    to => 'now'}), 400, 'bad_request', 'a time that is no time');
refused('POST', '/grafana/query', $q->(filters => [{key => 'symbol',
    operator => '=~', value => '(AAPL'}]), 400, 'bad_filter',
    'a filter that is no regular expression');
refused('POST', '/grafana/query', $q->(targets => [{target => 'price',
    payload => {symbols => 42}}]), 400, 'bad_request', 'symbols a number');
refused('POST', '/grafana/query', $q->(targets => [{target => 'price',
    payload => {symbols => 'X' x 100}}]), 400, 'out_of_range',
    'a symbol of 100 bytes');
refused('POST', '/grafana/variable', '{"payload":{"target":"(["}}', 400,
    'bad_request', 'a variable query that is no regular expression');
refused('POST', '/grafana/tag-values', '{}', 400, 'bad_request',
    'tag-values without key');
refused('POST', '/grafana/metric-payload-options', '{"metric":"price"}',
    400, 'bad_request', 'payload options without name');
refused('GET', '/api/v1/series?symbols=AAPL', undef, 400, 'bad_request',
    'series without metric');
refused('GET', '/api/v1/series?metric=price&points=0', undef, 400,
    'out_of_range', 'series points=0');
refused('GET', '/api/v1/series?metric=price&points=2000000', undef, 400,
    'out_of_range', 'series points=2000000');
refused('GET', '/api/v1/series?metric=price&from=now&to=now-1h', undef,
    400, 'out_of_range', 'series inverted range');
refused('GET', '/api/v1/series?metric=nope', undef, 400, 'unknown_metric',
    'series unknown metric');
refused('GET', '/grafana/querry', undef, 404, 'not_found',
    'an unknown route');
my ($st, $jj, $raw, $hd) = $h->get('/grafana/query');
is($st, 405, 'GET on a POST route: 405');
is($hd->{allow}, 'POST', 'with Allow');
refused('DELETE', '/metrics', undef, 405, 'method_not_allowed',
    'DELETE /metrics');

# ------------------------------------------------------------------
# Raw sockets: what a browser or curl would never send.

sub conn {
	my $s = IO::Socket::INET->new(PeerAddr => $d->http, Proto => 'tcp',
	    Timeout => 5) or die "connect: $!";
	$s->autoflush(1);
	return $s;
}

# Read an answer (head and Content-Length body; none after HEAD) within
# $secs; returns (status, head, body).  Bytes past it stay for the next
# call.
my %pending;
sub answer {
	my ($s, $secs, $head_only) = @_;
	my $buf = delete $pending{$s} // '';
	my $end = time + $secs * tmult();
	my $sel = IO::Select->new($s);
	my $eof = 0;
	while (1) {
		if ($buf =~ /^(.*?\r\n)\r\n/s) {
			my $head = $1;
			my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
			my ($len) = $head =~ /^Content-Length: (\d+)/mi;
			$len = 0 if $head_only || !defined $len;
			my $at = length($head) + 2;
			if (length($buf) >= $at + $len) {
				$pending{$s} = substr($buf, $at + $len);
				return ($status, $head, substr($buf, $at, $len));
			}
		}
		last if $eof || time > $end;
		if ($sel->can_read(0.05)) {
			my $n = sysread($s, $buf, 65536, length $buf);
			$eof = 1 unless $n;
		}
	}
	return (undef, undef, undef);
}

sub raw_refused {
	my ($send, $status, $code, $what, $secs) = @_;
	my $s = conn();
	print $s $send;
	my ($st, $head, $body) = answer($s, $secs || 3);
	is($st, $status, "$what: $status");
	my $j = eval { decode_json($body // '') };
	is($j && $j->{error}{code}, $code, "$what: JSON error $code")
	    or diag($head // 'no answer', $body // '');
	like($head // '', qr/^Connection: close/mi, "$what: closed after");
	return $s;
}

# The body's size is checked from the head: nothing of the 10 MB is
# sent, and the answer comes at once.
my $t0 = time;
raw_refused("POST /grafana/query HTTP/1.1\r\nHost: x\r\n"
    . "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n",
    413, 'payload_too_large', 'a body over http_max_body_bytes');
cmp_ok(time - $t0, '<', 2 * tmult(), 'refused before the body is read');
raw_refused("POST /grafana/query HTTP/1.1\r\nHost: x\r\nExpect: 100-continue"
    . "\r\nContent-Length: 5000\r\n\r\n", 413, 'payload_too_large',
    'Expect: 100-continue with a body over the limit');
raw_refused("POST /grafana/query HTTP/1.1\r\nHost: x\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411,
    'length_required', 'a chunked body');
raw_refused("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " . ('a' x 20000)
    . "\r\n\r\n", 431, 'header_too_large', 'a 20 kB header');
raw_refused("GET /healthz HTTP/1.1 extra\r\n\r\n", 400, 'bad_request',
    'a broken request line');
raw_refused("GET /healthz HTTP/1.1\r\nContent-Length: 1\r\n"
    . "Content-Length: 2\r\n\r\n", 400, 'bad_request', 'Content-Length twice');
raw_refused("BREW /pot HTTP/1.1\r\n\r\n", 501, 'not_implemented',
    'an unknown method');
raw_refused("GET /healthz HTTP/2.0\r\n\r\n", 501, 'not_implemented',
    'HTTP/2.0');

# A body larger than it says: the rest is the next request, refused.
{
	my $s = conn();
	print $s "POST /grafana/metrics HTTP/1.1\r\nHost: x\r\n"
	    . "Content-Length: 2\r\n\r\n{}GARBAGE\r\n\r\n";
	my ($st1) = answer($s, 3);
	is($st1, 200, 'a body with bytes after it: the request is answered');
	my ($st2) = answer($s, 3);
	is($st2, 400, 'and the bytes after it are a refused request');
}

# Slow requests: a head or a body not whole within http_timeout_ms
# (1 s here) is answered 408 and closed.
for my $case (["GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow:", 'a head'],
    ["POST /grafana/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100"
    . "\r\n\r\n{\"targets\":", 'a body']) {
	my $s = conn();
	print $s $case->[0];
	my ($st) = answer($s, 5);
	is($st, 408, "$case->[1] not whole in time: 408");
}

# Slow and idle connections do not stop the others: 25 idle, 10 that
# trickle a header byte by byte, then 20 requests on new connections.
my @idle = map { conn() } 1 .. 25;
my @slow = map { my $s = conn(); print $s "GET /healthz HTTP/1.1\r\n"; $s }
    1 .. 10;
my $worst = 0;
for my $i (1 .. 20) {
	print $_ 'X' for @slow;
	my $s = conn();
	my $t = time;
	print $s "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	my ($st) = answer($s, 5);
	$worst = time - $t if time - $t > $worst;
	is($st, 200, "request $i beside 35 slow or idle connections") or last;
}
cmp_ok($worst, '<', 0.5 * tmult(), sprintf('none waited (worst %.3f s)',
    $worst));

# At http_max_connections (40) a new connection closes the longest
# idle one rather than wait.
push @idle, map { conn() } 1 .. 15; # 40 idle, 10 slow: 50 open
my $s = conn();
print $s "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
($st) = answer($s, 5 * tmult());
is($st, 200, 'past http_max_connections, a new client is served');
close $_ for @idle, @slow;
my (undef, undef, $mraw) = $h->get('/metrics');
my ($closed_idle) = $mraw =~ /^finnstream_http_conn_closed_idle_total (\d+)/m;
cmp_ok($closed_idle // 0, '>', 0, "idle connections were closed to make "
    . "room ($closed_idle)");

# Keep-alive and pipelining: three requests in one write, three answers
# in order on the same connection.
{
	my $s = conn();
	print $s "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	    . "POST /grafana/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
	    . "\r\n\r\n{}"
	    . "GET /grafana HTTP/1.1\r\nHost: x\r\n\r\n";
	my @st = map { (answer($s, 3))[0] } 1 .. 3;
	is_deeply(\@st, [200, 200, 200], 'three pipelined requests answered');
}

# A client that closes after its request gets the whole answer first:
# "Connection: close", and HTTP/1.0 without keep-alive.
for my $req ("GET /grafana/metrics HTTP/1.1\r\nHost: x\r\nConnection: close"
    . "\r\n\r\n", "GET /healthz HTTP/1.0\r\n\r\n") {
	my $s = conn();
	print $s $req;
	my ($st, $head, $body) = answer($s, 3);
	my ($v) = $req =~ m{(HTTP/1\.\d)};
	ok($st && $st == 405 || $st == 200, "$v close: answered ($st)");
	my ($len) = ($head // '') =~ /^Content-Length: (\d+)/mi;
	is(length($body // ''), $len, "$v close: the whole answer");
	my $rest = '';
	my $sel = IO::Select->new($s);
	my $n = $sel->can_read(3 * tmult()) ? sysread($s, $rest, 100) : -1;
	is($n, 0, "$v close: then the connection is closed");
}

# An absolute-form target (as sent to a proxy) is read as its path, and
# the connection goes on.
{
	my $s = conn();
	print $s "GET http://localhost:9/grafana HTTP/1.1\r\nHost: x\r\n\r\n"
	    . "GET https://h/healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    . "GET http://h HTTP/1.1\r\nHost: x\r\n\r\n";
	my @st = map { (answer($s, 3))[0] } 1 .. 3;
	is_deeply(\@st, [200, 200, 404],
	    'absolute-form targets: /grafana, /healthz, / (no such route)');
}

# HEAD: the head of the GET answer, no body.
{
	my $s = conn();
	print $s "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	    . "GET /grafana HTTP/1.1\r\nHost: x\r\n\r\n";
	my ($st, $head, $body) = answer($s, 3, 1);
	is($st, 200, 'HEAD /healthz: 200');
	like($head, qr/^Content-Length: [1-9]\d*/mi, 'with the GET length');
	my ($st2, undef, $body2) = answer($s, 3);
	ok($st2 == 200 && $body2 =~ /^\{"status"/,
	    'and no body: the next answer follows directly');
}

# Fresh connections in a row, each answered (an answer must never wait
# for the socket to report writable again).
my $answered = 0;
for (1 .. 200) {
	my $s = conn();
	print $s "GET /grafana HTTP/1.1\r\nHost: x\r\n\r\n";
	my ($st) = answer($s, 2);
	$answered++ if defined $st && $st == 200;
}
is($answered, 200, '200 fresh connections, 200 answers');

($st, $j) = $h->get('/healthz');
is($st, 200, 'the daemon still serves');
ok($d->alive, 'and runs');
is($d->stop, 0, 'clean stop');
unlike($d->log, qr/AddressSanitizer|runtime error|fatal/,
    'no sanitizer report or fatal error in the log');
done_testing();
