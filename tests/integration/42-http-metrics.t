# GET /metrics: Prometheus text that promtool accepts, every family with
# HELP and TYPE, counters ending in _total, the query latency histogram
# counting queries, consumer groups' lag; GET /healthz: 200 with each
# stage's state, also while the feed cannot connect.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep time);
use Daemon qw(dead_port run_cmd tmult);
use HttpCheck;

my $d = Daemon->new(args => ['--feed', 'sim', '--sim_rate', '100',
    '--symbols', 'AAPL', '--partitions', '2', '--max_memory', '256m',
    '--group_initial_rebalance_delay_ms', '0']);
my $h = HttpCheck->new($d->http);

sub scrape {
	my ($st, undef, $raw, $hd) = $h->get('/metrics');
	return ($st, $raw, $hd);
}

sub sample {
	my ($text, $name) = @_;
	my ($v) = $text =~ /^\Q$name\E (\S+)$/m;
	return $v;
}

my ($st, $text, $hd) = scrape();
is($st, 200, 'GET /metrics');
like($hd->{'content-type'}, qr{^text/plain; version=0\.0\.4},
    'the text format, version 0.0.4');

# Every line: a HELP, a TYPE, or a sample of a family announced before.
my (%type, %help, @bad);
for my $line (split /\n/, $text) {
	if ($line =~ /^# HELP (finnstream_\w+) \S/) {
		$help{$1} = 1;
	} elsif ($line =~ /^# TYPE (finnstream_\w+) (counter|gauge|histogram)$/) {
		$type{$1} = $2;
	} elsif ($line =~ /^(finnstream_\w+?)(_bucket|_sum|_count)?(\{[^}]*\})? (\S+)$/) {
		my $fam = defined $2 && ($type{$1} // '') eq 'histogram' ? $1 : $1 . ($2 // '');
		push @bad, "no TYPE before: $line" unless $type{$fam} && $help{$fam};
		push @bad, "not a number: $line" unless $4 =~ /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^\+Inf$/;
	} else {
		push @bad, "unexpected: $line";
	}
}
ok(!@bad, 'every line is HELP, TYPE or a sample of a described family')
    or diag(join("\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]));
my @counters = grep { $type{$_} eq 'counter' } keys %type;
ok(!grep({ !/_total$/ } @counters), 'every counter ends in _total');
ok(!grep({ /_total$/ && $type{$_} ne 'counter' } keys %type),
    'and nothing else does');
cmp_ok(scalar(@counters), '>=', 50, scalar(@counters) . ' counters');
for my $f (qw(finnstream_feed_trades_total finnstream_log_bytes_total
    finnstream_kafka_requests_total finnstream_agg_records_total
    finnstream_store_trades_total finnstream_store_flush_seconds_total
    finnstream_http_requests_total)) {
	is($type{$f}, 'counter', "$f (feed, log, Kafka, aggregator, store, "
	    . 'HTTP)');
}
for my $f (qw(finnstream_memory_bytes finnstream_memory_limit_bytes
    finnstream_log_bytes finnstream_agg_lag_records
    finnstream_consumer_group_lag_records finnstream_store_bytes
    finnstream_http_connections)) {
	is($type{$f}, 'gauge', "$f: a gauge");
}
is($type{finnstream_http_query_duration_seconds}, 'histogram',
    'the query latency histogram');
is(sample($text, 'finnstream_memory_limit_bytes'), 256 * 1048576,
    'memory_limit_bytes is max_memory');
{
	my $mem = 0;
	my $end = time + 10 * tmult();
	while (time < $end && !$mem) {
		$mem = sample((scrape())[1], 'finnstream_memory_bytes');
		sleep 0.05;
	}
	cmp_ok($mem, '>', 0, "memory_bytes counts what is held ($mem)");
}

SKIP: {
	my $promtool = `sh -c 'command -v promtool'`;
	chomp $promtool;
	skip 'promtool not found (Debian: prometheus)', 2 unless $promtool;
	my ($pst, $out, $err) = run_cmd([$promtool, 'check', 'metrics'], 30,
	    undef, $text);
	is($pst, 0, 'promtool check metrics accepts it') or diag($out . $err);
	is($out . $err, '', 'without a warning');
}

# Queries are counted in the histogram, by route.
my $q = sub {
	my $key = 'finnstream_http_query_duration_seconds_count{route="/grafana/query"}';
	my ($v) = (scrape())[1] =~ /^\Q$key\E (\d+)$/m;
	return $v;
};
my $before = $q->();
$h->post('/grafana/query', {targets => [{refId => 'A', target => 'price'}]})
    for 1 .. 5;
is($q->() - $before, 5, 'five queries, five observations');
my (undef, $t2) = scrape();
my @le = $t2 =~ /^finnstream_http_query_duration_seconds_bucket\{route="\/grafana\/query",le="([^"]+)"\} (\d+)$/mg;
my %c = @le;
is($c{'+Inf'}, $q->() - 0, 'the +Inf bucket is the count');
my @cum = map { $le[2 * $_ + 1] } 0 .. @le / 2 - 1;
ok(!grep({ $cum[$_] < $cum[$_ - 1] } 1 .. $#cum), 'buckets are cumulative');

# Consumer group lag: a group reads 30 records, 12 more arrive.
SKIP: {
	skip 'kcat not found', 2 unless $ENV{KCAT} && -x $ENV{KCAT};
	my $produce = sub {
		my ($n, $from) = @_;
		$d->kcat(['-P', '-t', 'lagt', '-K', ':'], 30,
		    join('', map { "k$_:v$_\n" } $from .. $from + $n - 1));
	};
	$produce->(30, 1);
	my ($kst, $out, $err) = $d->kcat(['-G', 'lagg', 'lagt', '-e', '-q',
	    '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000'],
	    60);
	is($kst, 0, 'the group consumed the topic') or diag($err);
	$produce->(12, 31);
	my $lag = -1;
	my $end = time + 10 * tmult();
	while (time < $end) {
		my (undef, $t) = scrape();
		my @v = $t =~ /^finnstream_consumer_group_lag_records\{group="lagg",topic="lagt",partition="\d+"\} (\d+)$/mg;
		$lag = 0;
		$lag += $_ for @v;
		last if $lag == 12;
		sleep 0.1;
	}
	is($lag, 12, 'the group\'s lag: the 12 records produced since');
}

# /healthz
my ($hs, $hj) = $h->get('/healthz');
is($hs, 200, 'GET /healthz');
is($hj->{status}, 'ok', 'status ok');
is_deeply([sort keys %{$hj->{stages}}],
    [sort qw(feed log kafka aggregator store http)], 'each stage');
is($hj->{stages}{feed}{state}, 'generating', 'the sim feed generates');
is($hj->{stages}{store}{state}, 'ok', 'the store is ok');
is($hj->{stages}{kafka}{state}, 'listening', 'Kafka listens');
is($hj->{stages}{aggregator}{state}, 'running', 'the aggregator runs');
is($d->stop, 0, 'clean stop');

# While the feed cannot connect (nothing listens at its URL), the
# daemon serves: /healthz is 200 and says so.
my ($port, $sock) = dead_port();
my $r = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
    "ws://127.0.0.1:$port", '--feed_backoff_max_ms', '100'],
    env => {FINNHUB_TOKEN => 'x'});
$h = HttpCheck->new($r->http);
($hs, $hj) = $h->get('/healthz');
is($hs, 200, '/healthz while the feed reconnects: 200');
isnt($hj->{stages}{feed}{state}, 'connected', "feed state: "
    . ($hj->{stages}{feed}{state} // 'none'));
is($hj->{stages}{feed}{kind}, 'finnhub', 'feed kind');
my (undef, $rt) = (scrape())[0, 1];
is(sample($rt, 'finnstream_feed_up'), 0, 'finnstream_feed_up 0');
is($r->stop, 0, 'clean stop');
done_testing();
