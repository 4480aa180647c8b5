# The built-in chart page in headless Chromium, against a daemon fed by
# finnhub-sim: the page loads, every panel draws points for each chosen
# symbol, it keeps updating, and the last price it shows is
# /api/v1/series's last close once the feed stops; the same with
# http_auth_token (asked once by a prompt), and without uPlot installed
# the page says what to install.  Static files: types, ETag
# revalidation, and 404 for every path outside the folder.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep time);
use Daemon qw(run_cmd tmult);
use HttpCheck;

my $top = $ENV{top_srcdir} or die 'top_srcdir is not set';
my $web = "$top/web";
my $uplot = "$top/.npm-deps/node_modules/uplot/dist";
my $py = '/usr/bin/python3';
my $driver = "$top/tests/integration/lib/page_check.py";
my ($chromium) = grep { -x $_ } ($ENV{CHROMIUM} // ()),
    map({ ("$_/chromium", "$_/chromium-browser") } split(/:/, $ENV{PATH}));

my @syms = ('AAPL', 'MSFT', 'AMZN');

sub start {
	my ($sim, @extra) = @_;
	return Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
	    $sim->url, '--symbols', join(',', @syms),
	    '--feed_backoff_max_ms', '200', '--http_web_dir', $web,
	    '--store_flush_ms', '200', @extra],
	    env => {FINNHUB_TOKEN => 'tok'});
}

# (exit status, [state lines], done line, stderr) of a page run.
sub page {
	my ($url, $secs, @opt) = @_;
	my ($st, $out, $err) = run_cmd([$py, $driver, '--chromium', $chromium,
	    '--url', $url, '--seconds', $secs * tmult(), @opt],
	    60 + $secs * tmult());
	my (@states, $done);
	for (split /\n/, $out) {
		my $j = eval { decode_json($_) } or next;
		if ($j->{done}) { $done = $j } else { push @states, $j }
	}
	return ($st, \@states, $done, $err);
}

# The newest non-null value of a symbol's column in a series answer.
sub last_value {
	my ($j, $sym) = @_;
	my $col = $j->{columns}{$sym} or return undef;
	for (my $i = $#$col; $i >= 0; $i--) {
		return $col->[$i] if defined $col->[$i];
	}
	return undef;
}

my $sim = Daemon::Sim->new(args => ['--listen', '127.0.0.1:0',
    '--rate', '300', '--trades-per-frame', '3']);

# 1. Static files, whatever the browser: types, revalidation, refusals.
{
	my $d = start($sim, '--http_chart_dir', -d $uplot ? $uplot : $web,
	    '--http_auth_token', 'secret-token');
	my $h = HttpCheck->new($d->http);
	my ($st, $j, $raw, $hd) = $h->get('/');
	is($st, 200, 'GET / without the token: the page (it holds no data)');
	like($hd->{'content-type'}, qr{^text/html; charset=utf-8}, '  as HTML');
	like($raw, qr/<title>finnstream</, '  the page');
	is($hd->{'cache-control'}, 'no-cache', '  revalidated each load');
	like($hd->{'content-security-policy'} // '', qr/default-src 'self'/,
	    '  with a content security policy');
	my $etag = $hd->{etag};
	like($etag // '', qr/^W\/"[0-9a-f]+-[0-9a-f]+"$/, '  and an ETag');
	($st, undef, $raw) = $h->get('/', {'If-None-Match' => $etag});
	is($st, 304, 'If-None-Match with it: 304');
	is($raw // '', '', '  no body');
	for my $f (['/ui/app.js', qr{^text/javascript}],
	    ['/ui/style.css', qr{^text/css}]) {
		($st, undef, $raw, $hd) = $h->get($f->[0]);
		is($st, 200, "$f->[0]: 200");
		like($hd->{'content-type'}, $f->[1], '  its type');
		is(length($raw), -s "$web/" . substr($f->[0], 4),
		    '  the whole file');
	}
	($st) = $h->request('HEAD', '/ui/app.js');
	is($st, 200, 'HEAD /ui/app.js');
	($st) = $h->post('/ui/app.js', '{}');
	is($st, 405, 'POST /ui/app.js: 405');
	my $long = '/ui/' . ('a' x 4000) . '.js';
	for my $p ('/ui/../README.md', '/ui/..%2fREADME.md',
	    '/ui/%2e%2e/README.md', '/ui/%2E%2E%2FREADME.md', '/ui/',
	    '/ui', '/ui/.', '/ui/..', '/ui/.gitignore', '/ui//etc/passwd',
	    '/ui/%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd',
	    '/../../etc/passwd', '/ui/index.html/', '/ui/nonexistent.js',
	    '/vendor/uplot/../../../README.md', '/vendor/uplot/',
	    '/vendor/uplot/%2e%2e/package.json', '/vendor/uplot/uPlot.d.ts',
	    '/index.html', $long) {
		# HTTP::Tiny would normalise nothing, but be sure: raw socket.
		my ($code, $body) = raw_get($d->http, $p);
		is($code, 404, substr("$p: 404", 0, 60));
		unlike($body, qr/root:|"name"\s*:|<!doctype/i,
		    '  and no file in the answer');
	}
	($st, $j) = $h->get('/api/v1/series?metric=price');
	is($st, 401, 'the data still needs the token');
	is($d->stop, 0, 'clean exit');
}

sub raw_get {
	my ($addr, $path) = @_;
	require IO::Socket::INET;
	my $s = IO::Socket::INET->new(PeerAddr => $addr, Timeout => 10)
	    or return (0, '');
	print $s "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	local $/;
	my $r = <$s> // '';
	my ($code) = $r =~ m{^HTTP/1\.[01] (\d{3})};
	my ($body) = $r =~ /\r\n\r\n(.*)\z/s;
	return ($code // 0, $body // '');
}

# Where chromium cannot run, the browser tests are skipped, and say why.
my $no_browser;
if (!$chromium) {
	$no_browser = 'chromium is not installed (./setup.sh check installs it)';
} else {
	my ($st, undef, undef, $err) = page('about:blank', 0.2);
	$no_browser = "chromium cannot run here: $err" if $st == 2;
	ok($st == 0 || $st == 2, 'the browser driver runs') or diag($err);
}
SKIP: {
skip($no_browser, 1) if $no_browser;

# 2. Without uPlot the page says what to install.
{
	my $d = start($sim);
	my ($st, $states) = page('http://' . $d->http . '/', 2);
	my $s = $states->[-1] || {};
	ok($s->{missing_shown}, 'without http_chart_dir the page says the '
	    . 'chart library is missing');
	like($s->{missing_text} // '', qr/npm install .*uplot/s,
	    '  and how to install it');
	like($s->{missing_text} // '', qr/http_chart_dir/, '  and the key');
	is($d->stop, 0, 'clean exit');
}

SKIP: {
	skip('uPlot is not installed in .npm-deps (./setup.sh deps installs '
	    . 'it)', 1) unless -f "$uplot/uPlot.iife.min.js";

	# 3. The page, live; then the feed stops and it shows the last
	#    close.
	for my $auth (0, 1) {
		my $tok = 'page-token-' . $$;
		my $d = start($sim, '--http_chart_dir', $uplot,
		    $auth ? ('--http_auth_token', $tok) : ());
		my $h = HttpCheck->new($d->http,
		    headers => {Authorization => "Bearer $tok"});
		my $what = $auth ? 'with a token' : 'without a token';
		my $end = time + 10 * tmult();
		my $j;
		while (time < $end) {
			(undef, $j) = $h->get('/api/v1/series?metric=price&'
			    . 'symbols=AAPL,MSFT&from=now-5m');
			last if defined last_value($j, 'AAPL') &&
			    defined last_value($j, 'MSFT');
			sleep 0.1;
		}
		my $url = 'http://' . $d->http . '/?symbols=AAPL,MSFT&range=300000';
		my ($st, $states, $done, $err) = page($url, 6,
		    $auth ? ('--prompt-text', $tok) : ());
		is($st, 0, "$what: the browser ran") or diag($err);
		my $s = $states->[-1] || {};
		is($s->{ready}, '1', "$what: the page is ready")
		    or diag(encode_json($s));
		is($s->{error} // '', '', '  no error shown');
		is($s->{prompts}, $auth ? 1 : 0,
		    $auth ? '  it asked for the token once' : '  no prompt');
		cmp_ok($s->{updates} // 0, '>=', 3, '  it updated every second '
		    . '(' . ($s->{updates} // 0) . ' updates in 6 s)');
		is(scalar(@{$s->{panels} || []}), 4, '  four panels');
		for my $p (@{$s->{panels} || []}) {
			is($p->{drawn}, 2, "  $p->{metric}: both symbols drawn "
			    . "($p->{points} points)");
			cmp_ok($p->{last_t} // 0, '>', $p->{loaded_t} // 0,
			    "  $p->{metric}: newer points arrived after the load");
		}
		ok($done && $done->{done}{load_ms} > 0, '  navigation timing '
		    . sprintf('(load %.0f ms, ready %.0f ms)',
		    $done->{done}{load_ms} // -1,
		    $done->{done}{ready_ms} // -1));

		# The feed stops: nothing new; the page's last price must be
		# the last close /api/v1/series gives.
		$sim->stop if $auth;
		kill 'STOP', $sim->{pid} unless $auth;
		my ($prev, $same) = ('', 0);
		$end = time + 10 * tmult();
		while (time < $end && $same < 3) {
			(undef, undef, my $raw) = $h->get('/api/v1/series?'
			    . 'metric=price&symbols=AAPL&from=now-5m');
			$same = $raw eq $prev ? $same + 1 : 0;
			$prev = $raw;
			sleep 0.3;
		}
		(undef, $j) = $h->get('/api/v1/series?metric=price&symbols=AAPL'
		    . '&from=now-5m');
		my $want = last_value($j, 'AAPL');
		($st, $states) = page($url, 3,
		    $auth ? ('--prompt-text', $tok) : ());
		$s = $states->[-1] || {};
		my ($price) = grep { $_->{metric} eq 'price' }
		    @{$s->{panels} || []};
		ok(defined $want && defined $price->{last} &&
		    $price->{last} == $want, "$what: the page's last price "
		    . ($price->{last} // 'none') . ' is the last close '
		    . ($want // 'none'));
		kill 'CONT', $sim->{pid} unless $auth;
		is($d->stop, 0, "$what: clean exit");
	}
}

}

done_testing();
