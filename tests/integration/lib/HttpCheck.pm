# HttpCheck.pm: the HTTP stage's integration tests' helpers (Perl core
# modules only): requests, the shapes the simpod-json-datasource OpenAPI
# spec requires, trades fed through Kafka, and an independent
# recomputation of every metric from those trades.
#
#	my $h = HttpCheck->new($d->http);          # keep-alive client
#	my ($code, $json, $raw) = $h->post('/grafana/query', $body);
#	my @e = HttpCheck::timeseries_errors($json);   # () when it conforms
#	my $want = HttpCheck::buckets(\@trades, 'AAPL', $from, $to, 1000);
package HttpCheck;

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->canonical;

sub new {
	my ($class, $addr, %o) = @_;
	return bless {
		addr => $addr,
		ua => HTTP::Tiny->new(keep_alive => 1,
		    timeout => 20 * Daemon::tmult()),
		headers => $o{headers} || {},
	}, $class;
}

sub url { "http://$_[0]{addr}$_[1]" }

# (status, decoded JSON or undef, raw body, headers)
sub request {
	my ($self, $method, $path, $body, $hdrs) = @_;
	my %h = (%{$self->{headers}}, %{$hdrs || {}});
	my %opt = (headers => \%h);
	if (defined $body) {
		$opt{content} = ref $body ? $JSON->encode($body) : $body;
		$h{'Content-Type'} ||= 'application/json';
	}
	my $r = $self->{ua}->request($method, $self->url($path), \%opt);
	my $json = eval { decode_json($r->{content}) };
	return ($r->{status}, $json, $r->{content}, $r->{headers});
}

sub get { my ($s, $p, $h) = @_; return $s->request('GET', $p, undef, $h) }
sub post { my ($s, $p, $b, $h) = @_; return $s->request('POST', $p, $b, $h) }

sub encode { return $JSON->encode($_[0]) }

# ------------------------------------------------------------------
# Shapes (the OpenAPI spec's, plus what the plugin reads).

sub _num { defined $_[0] && !ref $_[0] && looks_like_number($_[0]) }

# A /query answer: a top-level array; series items {target, refId,
# datapoints [[value, ms]] ascending, at most $max}; tables {refId,
# type: table, columns [{text, type}], rows [[...]]}.
sub query_errors {
	my ($json, $max) = @_;
	my @e;
	return ('not a top-level array') unless ref $json eq 'ARRAY';
	my $i = 0;
	for my $it (@$json) {
		my $w = "item $i";
		$i++;
		if (ref $it ne 'HASH') { push @e, "$w: not an object"; next }
		push @e, "$w: no refId" unless defined $it->{refId} &&
		    !ref $it->{refId} && length $it->{refId};
		if (exists $it->{datapoints}) {
			push @e, "$w: target not a string"
			    unless defined $it->{target} && !ref $it->{target};
			my $dp = $it->{datapoints};
			if (ref $dp ne 'ARRAY') { push @e, "$w: datapoints"; next }
			push @e, "$w: more than $max points (" . @$dp . ")"
			    if defined $max && @$dp > $max;
			my $last;
			for my $p (@$dp) {
				unless (ref $p eq 'ARRAY' && @$p == 2 &&
				    _num($p->[0]) && _num($p->[1]) &&
				    $p->[1] == int($p->[1])) {
					push @e, "$w: a point is not [number, ms]";
					last;
				}
				if (defined $last && $p->[1] <= $last) {
					push @e, "$w: points not ascending";
					last;
				}
				$last = $p->[1];
			}
		} elsif (exists $it->{columns}) {
			push @e, "$w: type is not table"
			    unless ($it->{type} // '') eq 'table';
			my $c = $it->{columns};
			if (ref $c ne 'ARRAY' || !@$c) { push @e, "$w: columns"; next }
			for my $col (@$c) {
				push @e, "$w: a column without text/type"
				    unless ref $col eq 'HASH' && defined $col->{text} &&
				    ($col->{type} // '') =~ /^(time|string|number)$/;
			}
			if (ref $it->{rows} ne 'ARRAY') { push @e, "$w: rows"; next }
			for my $r (@{$it->{rows}}) {
				unless (ref $r eq 'ARRAY' && @$r == @$c) {
					push @e, "$w: a row is not as wide as the columns";
					last;
				}
			}
			push @e, "$w: more than $max rows"
			    if defined $max && @{$it->{rows}} > $max &&
			    ($c->[1]{text} // '') ne 'Symbol';
		} else {
			push @e, "$w: neither datapoints nor columns";
		}
	}
	return @e;
}

# A 4xx/5xx answer: JSON with error.code, error.message and message.
sub error_errors {
	my ($json) = @_;
	return ('not JSON') unless ref $json eq 'HASH';
	my @e;
	push @e, 'no error object' unless ref $json->{error} eq 'HASH';
	push @e, 'no error.message' unless defined $json->{error}{message} &&
	    length $json->{error}{message};
	push @e, 'no error.code' unless defined $json->{error}{code};
	push @e, 'no message' unless defined $json->{message};
	return @e;
}

# ------------------------------------------------------------------
# Trades fed in, and the recomputation.

# Produce trades ([sym, t, "p", "v", cond-json-or-undef], ...) into the
# trades topic with kcat, keyed by symbol (one partition per symbol, so
# production order is log order).
sub produce {
	my ($d, $trades) = @_;
	my @lines = map {
		my ($s, $t, $p, $v, $c) = @$_;
		"$s\t" . qq({"s":"$s","p":$p,"v":$v,"t":$t,"c":) .
		    (defined $c ? $c : 'null') . '}';
	} @$trades;
	my ($st, $out, $err) = $d->kcat(['-P', '-t', 'trades', '-K', "\t",
	    '-X', 'partitioner=murmur2_random'], 60, join("\n", @lines) . "\n");
	return ($st, $err);
}

# Wait until /grafana/query counts $n trades of @$syms in [from, to).
sub wait_count {
	my ($h, $syms, $from, $to, $n, $secs) = @_;
	my $end = time + ($secs || 20) * Daemon::tmult();
	my $got = -1;
	while (time < $end) {
		my ($code, $j) = $h->post('/grafana/query', {
		    range => {from => $from, to => $to},
		    maxDataPoints => 1, intervalMs => 0,
		    targets => [{refId => 'N', target => 'trades',
		        payload => {symbols => $syms}}]});
		if ($code == 200 && ref $j eq 'ARRAY') {
			$got = 0;
			$got += $_->[0] for map { @{$_->{datapoints}} } @$j;
			return $got if $got == $n;
		}
		sleep 0.05;
	}
	return $got;
}

# The bucket the daemon must choose (the rule of http_pick_bucket).
sub pick_bucket {
	my ($from, $to, $iv, $max) = @_;
	my $round = sub {
		my ($w) = @_;
		return 1 if $w < 1;
		return $w if $w < 1000;
		return int(($w + 999) / 1000) * 1000 if $w < 60000;
		return int(($w + 59999) / 60000) * 60000 if $w < 3600000;
		return int(($w + 3599999) / 3600000) * 3600000;
	};
	my $nb = sub {
		my ($w) = @_;
		my $start = $from - $from % $w;
		return int(($to - $start + $w - 1) / $w);
	};
	my $need = int(($to - $from + $max - 1) / $max);
	my $bw = $round->($need > $iv ? $need : $iv);
	my $steps = 0;
	$bw = $round->(++$steps > 64 ? $bw * 2 : $bw + 1) while $nb->($bw) > $max;
	return $bw;
}

# Buckets of one symbol's trades that [from, to) touches, whole (aligned
# to the epoch, as the daemon answers them): {t => {open, high, low,
# close, volume, pv, count}}, ties in production order (the log's).
sub buckets {
	my ($trades, $sym, $from, $to, $bw) = @_;
	my $start = $from - $from % $bw;
	my $end = $to % $bw ? $to - $to % $bw + $bw : $to;
	my %out;
	my @mine = grep { $_->[0] eq $sym && $_->[1] >= $start &&
	    $_->[1] < $end } @$trades;
	my $i = 0;
	# Sort by t, ties in production order (a stable sort).
	@mine = map { $_->[1] } sort { $a->[0][1] <=> $b->[0][1] ||
	    $a->[2] <=> $b->[2] } map { [$_, $_, $i++] } @mine;
	for my $tr (@mine) {
		my $k = $tr->[1] - $tr->[1] % $bw;
		my $x = $out{$k} ||= {open => $tr->[2], high => $tr->[2],
		    low => $tr->[2], volume => 0, pv => 0, count => 0};
		$x->{high} = $tr->[2] if $tr->[2] > $x->{high};
		$x->{low} = $tr->[2] if $tr->[2] < $x->{low};
		$x->{close} = $tr->[2];
		$x->{volume} += $tr->[3];
		$x->{pv} += $tr->[2] * $tr->[3];
		$x->{count}++;
	}
	return \%out;
}

# A metric's value of a bucket (undef: no point, as VWAP at volume 0).
sub value {
	my ($metric, $x) = @_;
	return $x->{close} if $metric eq 'price';
	return $x->{volume} if $metric eq 'volume';
	return $x->{pv} / $x->{count} if $metric eq 'avg_price_volume';
	return $x->{volume} ? $x->{pv} / $x->{volume} : undef
	    if $metric eq 'vwap';
	return $x->{count} if $metric eq 'trades';
	die "metric $metric";
}

# Expected datapoints [[value, t], ...] of a metric.
sub expect_points {
	my ($trades, $sym, $metric, $from, $to, $bw) = @_;
	my $bk = buckets($trades, $sym, $from, $to, $bw);
	my @p;
	for my $t (sort { $a <=> $b } keys %$bk) {
		my $v = value($metric, $bk->{$t});
		push @p, [$v, $t] if defined $v;
	}
	return \@p;
}

# Compare datapoints: same times, values within a relative 1e-9 (sums
# of doubles against the store's exact decimals).
sub points_diff {
	my ($got, $want) = @_;
	return 'count ' . scalar(@$got) . ' want ' . scalar(@$want)
	    unless @$got == @$want;
	for my $i (0 .. $#$want) {
		my ($g, $w) = ($got->[$i], $want->[$i]);
		return "time at $i: $g->[1] want $w->[1]" if $g->[1] != $w->[1];
		return "value at $i (t $w->[1]): $g->[0] want $w->[0]"
		    unless close_to($g->[0], $w->[0]);
	}
	return '';
}

sub close_to {
	my ($g, $w) = @_;
	return 0 unless defined $g && defined $w;
	return abs($g - $w) <= 1e-9 * (abs($w) > 1 ? abs($w) : 1);
}

1;
