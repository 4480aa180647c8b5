# The Grafana JSON datasource (/grafana) and /api/v1/series against an
# independent recomputation: trades fed through Kafka (a backfill, keyed
# by symbol), then the bodies Grafana 10 and 11 post through the
# simpod-json-datasource plugin, every answer's shape checked against
# the plugin's OpenAPI spec and every value against the trades: price
# (close), volume, avg_price_volume, vwap, trades, the OHLC table, the
# trades table, running values; buckets of 1 s, 60 s, 100 ms (raw
# trades) and whatever maxDataPoints implies; the same again from disk
# after a restart; the provisioned dashboard's panels; a trade visible
# as soon as it is in the log.  store_compact_rows is small, so the
# live answers already come partly from day files compacted while the
# daemon ran (the chunks they replaced freed on the writer thread).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep time);
use Daemon qw(tmult slurp);
use HttpCheck;

plan skip_all => 'kcat not found' unless $ENV{KCAT} && -x $ENV{KCAT};

my @SYMS = ('TST:AAA', 'BRK.B', 'TST:CCC');
# An hour well in the past: nothing the sim feed makes falls in it.
my $T0 = 1700000000000 - 1700000000000 % 3600000;
my $SPAN = 600000; # ten minutes of trades

# Deterministic trades: prices on a 0.01 tick, volumes whole or
# fractional, several trades sharing a millisecond, late trades out of
# order, and one symbol whose trades all have volume 0 (VWAP null).
my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed }
my @trades;
my %last = ('TST:AAA' => 10000, 'BRK.B' => 41234, 'TST:CCC' => 250);
for my $i (0 .. 2999) {
	my $sym = $SYMS[rnd() % 3];
	my $t = $T0 + int($i * $SPAN / 3000);
	$t -= rnd() % 5000 if $i % 97 == 0; # late
	$last{$sym} += (rnd() % 21) - 10;
	$last{$sym} = 100 if $last{$sym} < 100;
	my $p = sprintf('%d.%02d', int($last{$sym} / 100), $last{$sym} % 100);
	my $v = $sym eq 'TST:CCC' ? 0 :
	    (rnd() % 4 ? 1 + rnd() % 300 : sprintf('0.%03d', 1 + rnd() % 999));
	my $c = $i % 3 ? '["1","12"]' : undef;
	push @trades, [$sym, $t, $p, $v, $c];
	push @trades, [$sym, $t, $p + 0.01, 1, undef] if $i % 50 == 0; # same ms
}
my $N = @trades;

my $dir = tempdir(CLEANUP => 1);
my @args = ('--feed', 'sim', '--sim_rate', '5', '--symbols', 'ZZZZ',
    '--store_flush_ms', '200', '--partitions', '3',
    '--store_compact_rows', '1000');
my $d = Daemon->new(dir => $dir, args => \@args);
my $h = HttpCheck->new($d->http);

my ($st, $err) = HttpCheck::produce($d, \@trades);
is($st, 0, "kcat produced $N trades") or diag($err);
is(HttpCheck::wait_count($h, \@SYMS, $T0 - 10000, $T0 + $SPAN, $N), $N,
    'every trade is counted by /grafana/query');
{
	my $compactions = 0;
	for (1 .. 50 * tmult()) {
		my (undef, undef, $m) = $h->get('/metrics');
		$compactions = $1
		    if $m =~ /^finnstream_store_compactions_total (\d+)$/m;
		last if $compactions >= 1;
		sleep 0.1;
	}
	cmp_ok($compactions, '>=', 1,
	    "compacted while running ($compactions compactions)");
}

# ------------------------------------------------------------------
# The datasource's own routes.
my ($code, $j, $raw) = $h->get('/grafana');
is($code, 200, 'GET /grafana (the plugin\'s "Save & test")');
($code) = $h->get('/grafana/');
is($code, 200, 'GET /grafana/');

my $metrics;
for my $path ('/grafana/metrics', '/grafana/search') {
	for my $body ({}, {metric => 'price', payload => {symbols => ['A']}}, '') {
		($code, $j) = $h->post($path, $body);
		is($code, 200, "POST $path " . HttpCheck::encode($body));
		ok(ref $j eq 'ARRAY' && @$j && !grep({ ref $_ ne 'HASH' ||
		    !defined $_->{value} || ref $_->{payloads} ne 'ARRAY' ||
		    grep({ !defined $_->{name} } @{$_->{payloads}}) } @$j),
		    'MetricConfig objects: value, payloads with names');
		$metrics = $j;
	}
}
my %served = map { $_->{value} => 1 } @$metrics;
is_deeply([sort keys %served], [sort qw(price volume avg_price_volume
    vwap trades ohlc trades_table)], 'the metrics of DESIGN.md');

($code, $j) = $h->post('/grafana/metric-payload-options',
    {metric => 'price', payload => {}, name => 'symbols'});
is($code, 200, 'metric-payload-options for symbols');
my %opt = map { $_->{value} => 1 } @$j;
ok(!grep({ !$opt{$_} } @SYMS), 'lists the fed symbols as {label, value}');
($code, $j) = $h->post('/grafana/metric-payload-options',
    {metric => 'vwap', payload => {}, name => 'running'});
is_deeply([map { $_->{value} } @$j], ['false', 'true'], 'running options');

($code, $j) = $h->post('/grafana/variable',
    {payload => {target => 'symbols'}, range => {from => 'now-6h',
    to => 'now', raw => {from => 'now-6h', to => 'now'}}});
is($code, 200, 'POST /grafana/variable');
ok(ref $j eq 'ARRAY' && !grep({ !defined $_->{__text} ||
    !defined $_->{__value} || !defined $_->{text} || !defined $_->{value} }
    @$j), 'items carry __text/__value and text/value');
my %var = map { $_->{value} => 1 } @$j;
ok($var{'TST:AAA'} && $var{'BRK.B'} && $var{ZZZZ}, 'every symbol');
($code, $j) = $h->post('/grafana/variable', {payload => {target => 'TST:.*'}});
is_deeply([map { $_->{value} } @$j], ['TST:AAA', 'TST:CCC'],
    'a pattern narrows the variable');
($code, $j) = $h->post('/grafana/tag-keys', {});
is_deeply($j, [{type => 'string', text => 'symbol'}], 'tag-keys');
($code, $j) = $h->post('/grafana/tag-values', {key => 'symbol'});
ok((grep { $_->{text} eq 'BRK.B' } @$j), 'tag-values lists symbols');
($code, $j) = $h->post('/grafana/tag-values', {key => 'City'});
is_deeply($j, [], 'tag-values of another key: none');

# ------------------------------------------------------------------
# The data, checked against the recomputation.
my @METRICS = qw(price volume avg_price_volume vwap trades);

# A /query body as Grafana sends it.
sub body {
	my (%o) = @_;
	my $iso = sub {
		my @t = gmtime(int($_[0] / 1000));
		return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $t[5] + 1900,
		    $t[4] + 1, $t[3], $t[2], $t[1], $t[0], $_[0] % 1000);
	};
	return {app => 'dashboard', requestId => 'Q1', timezone => 'browser',
	    panelId => 1, dashboardUID => 'finnstream',
	    range => {from => $iso->($o{from}), to => $iso->($o{to}),
	        raw => {from => 'now-6h', to => 'now'}},
	    rangeRaw => {from => 'now-6h', to => 'now'},
	    interval => "$o{iv}ms", intervalMs => $o{iv},
	    maxDataPoints => $o{max}, targets => $o{targets},
	    scopedVars => $o{scoped} || {__interval => {text => '1s',
	        value => '1s'}, __interval_ms => {text => '1000',
	        value => 1000}},
	    startTime => 1, %{$o{extra} || {}}};
}

# Check one /query answer: shape, then every series and table.
sub check_query {
	my ($what, $b, $from, $to, $bucket, $syms_of, $running_of) = @_;
	my ($code, $j, $raw) = $h->post('/grafana/query', $b);
	is($code, 200, "$what: 200") or return diag($raw);
	my @e = HttpCheck::query_errors($j, $b->{maxDataPoints});
	ok(!@e, "$what: the answer's shape") or diag(join("\n", @e));
	for my $it (@$j) {
		my ($t) = grep { $_->{refId} eq $it->{refId} } @{$b->{targets}};
		my $metric = $t->{target};
		next unless exists $it->{datapoints};
		my $want = HttpCheck::expect_points(\@trades, $it->{target},
		    $metric, $from, $to, $bucket);
		if ($running_of && $running_of->{$it->{refId}}) {
			$want = running(\@trades, $it->{target}, $metric, $from,
			    $to, $bucket);
		}
		my $diff = HttpCheck::points_diff($it->{datapoints}, $want);
		is($diff, '', "$what: $metric of $it->{target}");
	}
	return $j;
}

# Running values: sums from the first trade on.
sub running {
	my ($tr, $sym, $metric, $from, $to, $bw) = @_;
	my $start = $from - $from % $bw;
	my ($pv, $vol, $n) = (0, 0, 0);
	for (grep { $_->[0] eq $sym && $_->[1] < $start } @$tr) {
		$pv += $_->[2] * $_->[3];
		$vol += $_->[3];
		$n++;
	}
	my $bk = HttpCheck::buckets($tr, $sym, $from, $to, $bw);
	my @p;
	for my $t (sort { $a <=> $b } keys %$bk) {
		$pv += $bk->{$t}{pv};
		$vol += $bk->{$t}{volume};
		$n += $bk->{$t}{count};
		my $v = $metric eq 'avg_price_volume' ? $pv / $n :
		    $metric eq 'vwap' ? ($vol ? $pv / $vol : undef) :
		    $metric eq 'volume' ? $vol : $n;
		push @p, [$v, $t] if defined $v;
	}
	return \@p;
}

sub all_checks {
	my ($tag) = @_;
	# Grafana 10, code mode: an unquoted multi-value $symbol became a
	# JSON array; 5 minutes at intervalMs 1000 -> 1 s buckets.
	my ($f, $t) = ($T0 + 60000, $T0 + 360000);
	my $i = 0;
	check_query("$tag Grafana 10, 1 s", body(from => $f, to => $t,
	    iv => 1000, max => 1000, targets => [map { {refId => chr(65 + $i++),
	    target => $_, editorMode => 'code', datasource => {type =>
	    'simpod-json-datasource', uid => 'finnstream'}, payload =>
	    {symbols => [@SYMS]}} } @METRICS]), $f, $t, 1000);

	# Grafana 11 (scenes): __sceneObject, filters, a hidden target, the
	# regex form of a builder-mode payload; the whole ten minutes at
	# intervalMs 60000 -> 60 s buckets from the 60 s level.
	($f, $t) = ($T0, $T0 + $SPAN);
	my $j = check_query("$tag Grafana 11, 60 s", body(from => $f, to => $t,
	    iv => 60000, max => 720, scoped => {__sceneObject =>
	    {text => '__sceneObject'}, symbol => {text => 'All',
	    value => ['$__all']}},
	    extra => {filters => [{key => 'symbol', operator => '!=',
	        value => 'TST:CCC'}], queryGroupId => 'x'},
	    targets => [{refId => 'A', target => 'vwap', editorMode => 'builder',
	        payload => {symbols => '(TST:AAA|BRK\.B|TST:CCC)'}},
	      {refId => 'B', target => 'volume', hide => JSON::PP::true},
	      {refId => 'C', target => 'avg_price_volume',
	        payload => '{"symbols": "{TST:AAA,BRK.B}"}'}]), $f, $t, 60000);
	is_deeply([sort map { "$_->{refId} $_->{target}" } @$j],
	    ['A BRK.B', 'A TST:AAA', 'C BRK.B', 'C TST:AAA'],
	    "$tag: the filter drops TST:CCC, the hidden target is not run");

	# Sub-second buckets from raw trades: a minute at intervalMs 100.
	($f, $t) = ($T0 + 120000, $T0 + 180000);
	$i = 0;
	check_query("$tag 100 ms from trades", body(from => $f, to => $t,
	    iv => 100, max => 1000, targets => [map { {refId => chr(65 + $i++),
	    target => $_, payload => {symbols => 'TST:AAA'}} } @METRICS]),
	    $f, $t, 100);

	# Few points: maxDataPoints decides (and is never exceeded); the
	# range starts off the bucket grid; every symbol (no payload).
	($f, $t) = ($T0 + 12345, $T0 + $SPAN - 777);
	my $bw = HttpCheck::pick_bucket($f, $t, 0, 7);
	check_query("$tag maxDataPoints 7 ($bw ms)", body(from => $f, to => $t,
	    iv => 0, max => 7, targets => [{refId => 'A', target => 'price'},
	    {refId => 'B', target => 'trades', payload => {}}]), $f, $t, $bw);

	# Running values since the oldest data.
	($f, $t) = ($T0 + 300000, $T0 + $SPAN);
	check_query("$tag running", body(from => $f, to => $t, iv => 10000,
	    max => 100, targets => [
	    {refId => 'A', target => 'avg_price_volume',
	        payload => {symbols => ['BRK.B'], running => JSON::PP::true}},
	    {refId => 'B', target => 'vwap',
	        payload => {symbols => 'TST:AAA', running => 'true'}}]),
	    $f, $t, 10000, undef, {A => 1, B => 1});

	# The OHLC table.
	($f, $t) = ($T0, $T0 + 180000);
	my ($code, $jt) = $h->post('/grafana/query', body(from => $f, to => $t,
	    iv => 30000, max => 1000, targets => [{refId => 'O',
	    target => 'ohlc', payload => {symbols => ['TST:AAA', 'TST:CCC']}}]));
	is($code, 200, "$tag ohlc");
	my @e = HttpCheck::query_errors($jt);
	ok(!@e, "$tag ohlc: the table's shape") or diag(join("\n", @e));
	is_deeply([map { $_->{text} } @{$jt->[0]{columns}}],
	    [qw(Time Symbol Open High Low Close Volume VWAP Trades)],
	    "$tag ohlc: the columns");
	my $bad = 0;
	my $rows = 0;
	for my $sym ('TST:AAA', 'TST:CCC') {
		my $bk = HttpCheck::buckets(\@trades, $sym, $f, $t, 30000);
		my @rows = grep { $_->[1] eq $sym } @{$jt->[0]{rows}};
		$rows += @rows;
		$bad++ unless @rows == keys %$bk;
		for my $r (@rows) {
			my $x = $bk->{$r->[0]} or ($bad++, next);
			my $vw = $x->{volume} ? $x->{pv} / $x->{volume} : undef;
			$bad++ unless HttpCheck::close_to($r->[2], $x->{open}) &&
			    HttpCheck::close_to($r->[3], $x->{high}) &&
			    HttpCheck::close_to($r->[4], $x->{low}) &&
			    HttpCheck::close_to($r->[5], $x->{close}) &&
			    HttpCheck::close_to($r->[6], $x->{volume}) &&
			    (defined $vw ? HttpCheck::close_to($r->[7], $vw)
			                 : !defined $r->[7]) &&
			    $r->[8] == $x->{count};
		}
	}
	is($bad, 0, "$tag ohlc: $rows rows match (VWAP null at volume 0)");

	# The trades table: newest first, capped at maxDataPoints.
	($code, $jt) = $h->post('/grafana/query', body(from => $T0,
	    to => $T0 + $SPAN, iv => 0, max => 25, targets => [{refId => 'T',
	    target => 'trades_table', payload => '{"symbols":["BRK.B"]}'}]));
	my @want = (sort { $b->[1] <=> $a->[1] || $b->[5] <=> $a->[5] }
	    map { [@{$trades[$_]}, $_] } grep { $trades[$_][0] eq 'BRK.B' }
	    0 .. $#trades)[0 .. 24];
	my @got = @{$jt->[0]{rows} || []};
	is(scalar(@got), 25, "$tag trades_table: 25 rows (maxDataPoints)");
	is_deeply([map { [$_->[0], $_->[1], 0 + $_->[2], 0 + $_->[3],
	    $_->[4]] } @got], [map { [$_->[1], 'BRK.B', 0 + $_->[2],
	    0 + $_->[3], $_->[4]] } @want],
	    "$tag trades_table: the newest trades, newest first");

	# from=all: from the oldest data retained, to the second.
	{
		my ($min) = sort { $a <=> $b } map { $_->[1] } @trades;
		my ($c, $ja) = $h->get('/api/v1/series?metric=price&symbols='
		    . 'TST:AAA&from=all&points=100');
		is($c, 200, "$tag series from=all");
		is($ja->{from}, $min - $min % 1000,
		    "$tag series from=all: from the oldest trade's second");
	}

	# /api/v1/series: the same data as columns.
	($f, $t) = ($T0 + 60000, $T0 + 360000);
	my $jr;
	($code, $jr, my $rawr) = $h->get("/api/v1/series?metric=vwap&symbols="
	    . "TST:AAA,BRK.B,TST:CCC&from=$f&to=$t&points=1000&interval=1000");
	is($code, 200, "$tag /api/v1/series") or diag($rawr);
	is_deeply($jr->{names}, ['time', @SYMS], "$tag series: names");
	is($jr->{interval_ms}, 1000, "$tag series: interval_ms");
	my %col = %{$jr->{columns}};
	my $n = @{$col{time}};
	ok(!grep({ @{$col{$_}} != $n } @SYMS), "$tag series: columns as long "
	    . "as time ($n)");
	$bad = 0;
	my %times;
	for my $sym (@SYMS) {
		my $want = HttpCheck::expect_points(\@trades, $sym, 'vwap', $f,
		    $t, 1000);
		my %w = map { $_->[1] => $_->[0] } @$want;
		$times{$_->[1]} = 1 for @$want;
		for my $k (0 .. $n - 1) {
			my $g = $col{$sym}[$k];
			my $x = $w{$col{time}[$k]};
			$bad++ unless defined $x ? HttpCheck::close_to($g, $x)
			                         : !defined $g;
		}
	}
	is($bad, 0, "$tag series: every value (null where a symbol has none)");
	# TST:CCC has volume 0 everywhere: its VWAP is always null, and
	# times are those where some symbol has a value... or trades.
	ok($n >= keys %times, "$tag series: every time with a value");
	# The same as rows (format=rows): one object per time.
	my $jrows;
	($code, $jrows) = $h->get("/api/v1/series?metric=vwap&symbols="
	    . "TST:AAA,BRK.B,TST:CCC&from=$f&to=$t&points=1000&interval=1000"
	    . "&format=rows");
	is(ref $jrows eq 'ARRAY' && scalar(@$jrows), $n,
	    "$tag series rows: one object per time");
	$bad = 0;
	for my $k (0 .. $n - 1) {
		my $o = $jrows->[$k];
		$bad++ unless $o->{time} == $col{time}[$k];
		for my $sym (@SYMS) {
			my ($g, $x) = ($o->{$sym}, $col{$sym}[$k]);
			$bad++ unless defined $x ? HttpCheck::close_to($g, $x)
			                         : !defined $g && exists $o->{$sym};
		}
	}
	is($bad, 0, "$tag series rows: the columns' values");
	($code, $jr) = $h->get("/api/v1/series?metric=ohlc&symbols=BRK.B,TST:AAA"
	    . "&from=$T0&to=" . ($T0 + 120000) . "&interval=60000");
	is_deeply($jr->{names}, [qw(time symbol open high low close volume vwap
	    trades)], "$tag series ohlc: names");
	is_deeply($jr->{columns}{symbol}, [qw(BRK.B BRK.B TST:AAA TST:AAA)],
	    "$tag series ohlc: 2 rows per symbol, symbol by symbol");
	my $bk = HttpCheck::buckets(\@trades, 'TST:AAA', $T0, $T0 + 120000,
	    60000);
	is_deeply([map { 0 + $_ } @{$jr->{columns}{trades}}[2, 3]],
	    [map { $bk->{$_}{count} } sort { $a <=> $b } keys %$bk],
	    "$tag series ohlc: the trades of each bucket");
	($code, $jrows) = $h->get("/api/v1/series?metric=trades_table&symbols="
	    . "BRK.B&from=$T0&to=" . ($T0 + $SPAN) . "&points=3&format=rows");
	is_deeply([sort keys %{$jrows->[0] || {}}],
	    [qw(conditions price symbol time volume)],
	    "$tag series trades_table rows: the trade's fields");
	is(scalar(@$jrows), 3, "$tag series trades_table: points rows");
}

all_checks('live');

# The provisioned dashboard: it parses, every panel's target is served,
# and every target answers once the plugin has interpolated $symbol.
my $dash = decode_json(slurp("$ENV{top_srcdir}/grafana/dashboards/"
    . "finnstream.json"));
ok(ref $dash->{panels} eq 'ARRAY' && @{$dash->{panels}} >= 5,
    'the dashboard parses and has its panels');
is($dash->{refresh}, '1s', 'refresh 1s');
my ($var) = grep { $_->{name} eq 'symbol' } @{$dash->{templating}{list}};
ok($var && $var->{multi}, 'a multi-value symbol variable');
for my $p (@{$dash->{panels}}) {
	for my $t (@{$p->{targets} || []}) {
		ok($served{$t->{target}}, "panel \"$p->{title}\": "
		    . "$t->{target} is listed by /grafana/metrics");
		# The plugin's code mode: $symbol replaced by the JSON of the
		# selected values, then the payload parsed.
		(my $payload = $t->{payload}) =~
		    s/\$symbol/HttpCheck::encode(['TST:AAA', 'BRK.B'])/ge;
		my $pl = eval { decode_json($payload) };
		ok($pl, "panel \"$p->{title}\": the payload is JSON once "
		    . 'interpolated') or diag($t->{payload});
		my ($code, $j) = $h->post('/grafana/query', body(from => $T0,
		    to => $T0 + $SPAN, iv => 1000, max => 500, targets =>
		    [{%$t, payload => $pl}]));
		is($code, 200, "panel \"$p->{title}\": answered");
		ok(!HttpCheck::query_errors($j, 500) && @$j,
		    "panel \"$p->{title}\": data in the answer");
	}
}

# A trade is visible as soon as it is in the log: store_flush_ms is
# 200 ms here, and the query merges the aggregator's window anyway.
my $now = int(time * 1000);
($st, $err) = HttpCheck::produce($d, [['TST:LIVE', $now, '77.77', 3, undef]]);
is($st, 0, 'produced one live trade');
my $seen = 0;
my $end = time + 5 * tmult();
while (time < $end && !$seen) {
	my ($code, $j) = $h->get("/api/v1/series?metric=price&symbols=TST:LIVE"
	    . "&from=now-1m&to=now%2B1m");
	$seen = 1 if grep { defined $_ && $_ == 77.77 }
	    @{$j->{columns}{'TST:LIVE'} || []};
	sleep 0.01;
}
ok($seen, 'the live trade is visible in /api/v1/series');

# From disk: a clean restart flushes and compacts; the same answers.
is($d->stop, 0, 'clean stop');
$d = Daemon->new(dir => $dir, args => \@args);
$h = HttpCheck->new($d->http);
is(HttpCheck::wait_count($h, \@SYMS, $T0 - 10000, $T0 + $SPAN, $N), $N,
    'after the restart: every trade still counted');
all_checks('stored');
is($d->stop, 0, 'clean stop');
done_testing();
