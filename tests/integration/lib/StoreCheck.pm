# StoreCheck.pm: read a stopped daemon's store through finnstreamd
# --verify-store and --dump-store, and check it against itself: trades
# told apart by finnhub-sim --sequence (the volume is a sequence number)
# are stored once each, and the bars equal a recomputation from the
# stored trades, exactly (prices with 2 decimals, integer volumes: all
# sums are whole cents).  Perl core modules only.
#
#	my ($st, $out) = StoreCheck::verify($data_dir);
#	my $s = StoreCheck::load($data_dir);   # {trades => [...], total => N}
#	StoreCheck::check($s, $max_runs, $what);  # runs Test::More checks
package StoreCheck;

use strict;
use warnings;
use Test::More;
use Daemon qw(run_cmd);

sub verify {
	my ($data) = @_;
	my ($st, $out, $err) = run_cmd([$ENV{FINNSTREAMD}, '--data_dir',
	    $data, '--verify-store'], 60);
	return ($st, $out . $err);
}

sub cents {
	my ($x) = @_;
	my ($i, $f) = $x =~ /^(-?\d+)(?:\.(\d+))?$/ or return undef;
	$f = defined $f ? $f : '';
	return undef if length($f) > 2;
	$f = substr($f . '00', 0, 2);
	return $i * 100 + ($i =~ /^-/ ? -$f : $f);
}

# The first line of --dump-store: "# commit N trades T bars B lost L
# invalid I offsets ... ends ...".
sub dump_header {
	my ($data) = @_;
	my ($st, $out) = run_cmd([$ENV{FINNSTREAMD}, '--data_dir', $data,
	    '--dump-store', 'bars'], 60);
	my ($h) = $out =~ /^(# commit .*)$/m;
	return defined $h ? $h : '';
}

# The stored trades and bars: {trades => [[s, t, p, v, c], ...], total
# => the commit's count, bars => [[s, t, o, h, l, c, v, n, pv], ...]}.
sub load {
	my ($data) = @_;
	my %s = (trades => [], bars => []);
	my ($st, $out, $err) = run_cmd([$ENV{FINNSTREAMD}, '--data_dir',
	    $data, '--dump-store', 'trades'], 60);
	$s{ok} = $st == 0;
	($s{total}) = $out =~ /^# commit \d+ trades (\d+)/m;
	for my $line (split /\n/, $out) {
		push @{$s{trades}}, [split /\t/, $line] unless $line =~ /^#/;
	}
	($st, $out, $err) = run_cmd([$ENV{FINNSTREAMD}, '--data_dir', $data,
	    '--dump-store', 'bars'], 60);
	$s{ok} &&= $st == 0;
	for my $line (split /\n/, $out) {
		push @{$s{bars}}, [split /\t/, $line] unless $line =~ /^#/;
	}
	return \%s;
}

# Test::More checks of a loaded store; returns the sorted sequence.
sub check {
	my ($s, $max_runs, $what) = @_;
	my @trades = @{$s->{trades}};
	ok($s->{ok}, "$what: the store dumps");
	is(scalar(@trades), $s->{total},
	    "$what: the commit's total ($s->{total}) is what is stored");
	my %seen;
	my $dups = grep { $seen{$_->[3]}++ } @trades;
	is($dups, 0, "$what: no trade is stored twice");
	my @seq = sort { $a <=> $b } keys %seen;
	my $runs = @seq ? 1 : 0;
	for my $i (1 .. $#seq) {
		$runs++ if $seq[$i] != $seq[$i - 1] + 1;
	}
	cmp_ok($runs, '<=', $max_runs,
	    "$what: the stored sequence is $runs whole runs");
	my %want;
	for my $tr (@trades) {
		my ($sym, $t, $p, $v) = @$tr;
		my $k = $sym . "\t" . ($t - $t % 1000);
		my $pc = cents($p);
		my $b = $want{$k} ||= {ot => $t, ct => $t, o => $pc, c => $pc,
		    h => $pc, l => $pc, v => 0, n => 0, pv => 0};
		if ($t < $b->{ot}) { $b->{ot} = $t; $b->{o} = $pc }
		if ($t >= $b->{ct}) { $b->{ct} = $t; $b->{c} = $pc }
		$b->{h} = $pc if $pc > $b->{h};
		$b->{l} = $pc if $pc < $b->{l};
		$b->{v} += $v;
		$b->{n}++;
		$b->{pv} += $pc * $v;
	}
	my ($nbars, $bad) = (0, 0);
	for my $bar (@{$s->{bars}}) {
		my ($sym, $t, $o, $h, $l, $c, $v, $n, $pv) = @$bar;
		my $w = delete $want{"$sym\t$t"};
		$nbars++;
		next if $w && cents($o) == $w->{o} && cents($h) == $w->{h} &&
		    cents($l) == $w->{l} && cents($c) == $w->{c} &&
		    $v == $w->{v} && $n == $w->{n} && cents($pv) == $w->{pv};
		diag("$what: bar @$bar") if $bad++ < 5;
	}
	is($bad, 0, "$what: $nbars bars equal the recomputation from the "
	    . "stored trades");
	is(scalar(keys %want), 0, "$what: no bucket of the trades lacks its "
	    . "bar");
	return \@seq;
}

1;
