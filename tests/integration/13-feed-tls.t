# wss://: the feed verifies the upstream's certificate and host name.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(run_cmd);

my $dir = tempdir(CLEANUP => 1);

# A throw-away CA, and two server certificates it signs: one for
# "localhost", one for another name.
sub ossl {
	my ($st, $out, $err) = run_cmd(['openssl', @_], 60);
	die "openssl @_: $err" if $st != 0;
}
ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=finnstream test CA', '-keyout', "$dir/ca.key",
    '-out', "$dir/ca.pem");
for my $name ('localhost', 'wrong.example') {
	open(my $fh, '>', "$dir/$name.ext") or die;
	print $fh "subjectAltName=DNS:$name\n";
	close $fh;
	ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$name",
	    '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr");
	ossl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/ca.pem",
	    '-CAkey', "$dir/ca.key", '-CAcreateserial', '-days', '2',
	    '-extfile', "$dir/$name.ext", '-out', "$dir/$name.pem");
}

sub tls_sim {
	my ($name) = @_;
	return Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
	    '--rate', '500', '--tls-cert', "$dir/$name.pem",
	    '--tls-key', "$dir/$name.key"]);
}

{
	my $sim = tls_sim('localhost');
	my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
	    'wss://localhost:' . $sim->port, '--feed_ca_file', "$dir/ca.pem",
	    '--symbols', 'AAPL'], env => {FINNHUB_TOKEN => 'x'});
	ok($d->log_like(qr/feed: connected/, 10),
	    'wss:// to a server whose certificate names the host')
	    or diag($d->log);
	sleep 0.5;
	cmp_ok($d->count, '>', 10, 'trades arrive over TLS');
	is($d->stop, 0, 'clean exit');
}

{
	my $sim = tls_sim('wrong.example');
	my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
	    'wss://localhost:' . $sim->port, '--feed_ca_file', "$dir/ca.pem",
	    '--symbols', 'AAPL', '--feed_backoff_max_ms', '200'],
	    env => {FINNHUB_TOKEN => 'x'});
	ok($d->log_like(qr/verif|host ?name|mismatch/i, 10),
	    'a certificate for another host name is refused, clearly')
	    or diag($d->log);
	sleep 0.5;
	unlike($d->log, qr/feed: connected/, 'no connection is established');
	is($d->count, 0, 'and no trade is taken from it');
	ok($d->alive, 'the daemon keeps serving');
	is($d->stop, 0, 'clean exit');
}

{
	# The system CA store does not know our CA.
	my $sim = tls_sim('localhost');
	my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
	    'wss://localhost:' . $sim->port, '--symbols', 'AAPL',
	    '--feed_backoff_max_ms', '200'], env => {FINNHUB_TOKEN => 'x'});
	ok($d->log_like(qr/verif/i, 10),
	    'an unknown CA is refused without feed_ca_file') or diag($d->log);
	unlike($d->log, qr/feed: connected/, 'no connection');
	$d->stop;
}
done_testing();
