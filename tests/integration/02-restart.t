# Offsets never go back: after SIGTERM or kill -9, every partition starts
# at or beyond where it was, so committed consumer offsets stay meaningful.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

use Daemon;

my $dir = tempdir(CLEANUP => 1);

for my $how ('TERM', 'KILL') {
	my $d = Daemon->new(dir => $dir, args => ['--sim_rate', '2000']);
	sleep 0.7;
	my $before = $d->offsets('trades', 4, -1);
	my $used = grep { $_ > 0 } values %$before;
	is($used, 4, "$how: all 4 partitions used");
	$d->stop($how);
	$d = Daemon->new(dir => $dir, args => ['--sim_rate', '2000']);
	sleep 0.5;
	my $after = $d->offsets('trades', 4, -2);
	my $back = grep { !defined $after->{$_} || $after->{$_} < $before->{$_} }
	    keys %$before;
	ok(!$back, "$how: after a restart every partition starts at or "
	    . "past its old end") or diag(explain([$before, $after]));
	cmp_ok($d->count, '>', 0, "$how: and takes new trades");
	is($d->stop, 0, "$how: clean exit of the second run");
}
done_testing();
