# http_auth_token: every route but /healthz needs
# "Authorization: Bearer <token>"; a missing or wrong token gets 401 with
# a JSON error and WWW-Authenticate; the token never appears in the log
# (at debug level) nor in any answer.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Daemon qw(slurp);
use HttpCheck;

my $token = 'tok-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);
my $dir = tempdir(CLEANUP => 1);
open(my $fh, '>', "$dir/auth.conf") or die;
print $fh "http_auth_token $token\n";
close $fh;
chmod 0600, "$dir/auth.conf";

my $d = Daemon->new(args => ['-c', "$dir/auth.conf", '--feed', 'sim',
    '--sim_rate', '10', '--log_level', 'debug']);
my $anon = HttpCheck->new($d->http);
my $good = HttpCheck->new($d->http,
    headers => {Authorization => "Bearer $token"});
my $bad = HttpCheck->new($d->http,
    headers => {Authorization => 'Bearer wrong-token'});
my $short = HttpCheck->new($d->http,
    headers => {Authorization => 'Bearer ' . substr($token, 0, 10)});
my $basic = HttpCheck->new($d->http,
    headers => {Authorization => "Basic $token"});

my @routes = (['GET', '/grafana'], ['GET', '/grafana/'],
    ['POST', '/grafana/metrics', '{}'], ['POST', '/grafana/search', '{}'],
    ['POST', '/grafana/query', '{"targets":[]}'],
    ['POST', '/grafana/variable', '{"payload":{"target":"symbols"}}'],
    ['POST', '/grafana/tag-keys', '{}'],
    ['POST', '/grafana/tag-values', '{"key":"symbol"}'],
    ['POST', '/grafana/metric-payload-options',
        '{"metric":"price","payload":{},"name":"symbols"}'],
    ['GET', '/api/v1/series?metric=price'], ['GET', '/metrics']);
my @answers;
for my $r (@routes) {
	my ($m, $p, $b) = @$r;
	for my $c ([$anon, 'no token'], [$bad, 'a wrong token'],
	    [$short, 'a prefix of the token'], [$basic, 'Basic auth']) {
		my ($st, $j, $raw, $hd) = $c->[0]->request($m, $p, $b);
		is($st, 401, "$m $p with $c->[1]: 401");
		is($j && $j->{error}{code}, 'unauthorized', '  a JSON error');
		like($hd->{'www-authenticate'} // '', qr/^Bearer/,
		    '  WWW-Authenticate: Bearer');
		push @answers, $raw;
	}
	my ($st, $j, $raw) = $good->request($m, $p, $b);
	is($st, 200, "$m $p with the token: 200");
	push @answers, $raw;
}
my ($st, $j, $raw) = $anon->get('/healthz');
is($st, 200, '/healthz needs no token');
push @answers, $raw;
($st) = HttpCheck->new($d->http, headers => {Authorization =>
    "bearer $token"})->get('/metrics');
is($st, 200, 'the scheme in any case');

is($d->stop, 0, 'clean stop');
my $log = $d->log;
like($log, qr/http: .*bearer token required/, 'the log says a token is '
    . 'required');
unlike($log, qr/\Q$token\E/, 'the token is not in the log');
ok(!grep({ index($_ // '', $token) >= 0 } @answers),
    'nor in any answer');
done_testing();
