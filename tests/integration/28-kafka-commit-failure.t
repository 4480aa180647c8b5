# An OffsetCommit whose offsets cannot be made durable is not
# acknowledged: with data_dir gone from under the daemon, the commit is
# answered COORDINATOR_NOT_AVAILABLE (clients retry it), the daemon logs
# why and keeps serving; once the directory is back, the same commit is
# acknowledged and read back.  A raw OffsetCommit v2 and OffsetFetch v1,
# so the error codes themselves are checked.
use strict;
use warnings;
use Test::More;
use File::Path qw(remove_tree make_path);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use Daemon qw(tmult);

my $d = Daemon->new(args => ['--sim_rate', '10', '--partitions', '2']);

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $d->port,
    Proto => 'tcp') or die "connect: $!";
binmode $s;

sub str { pack('n/a*', $_[0]) }

sub request {
	my ($key, $ver, $corr, $body) = @_;
	my $p = pack('n n N', $key, $ver, $corr) . str('commit-test') . $body;
	print $s pack('N', length $p) . $p;
	my ($buf, $sel) = ('', IO::Select->new($s));
	my $end = time + 5 * tmult();
	while (time < $end) {
		if (length($buf) >= 4 && length($buf) >= 4 + unpack('N', $buf)) {
			return substr($buf, 4, unpack('N', $buf));
		}
		next unless $sel->can_read(0.05);
		sysread($s, $buf, 65536, length $buf) or last;
	}
	return '';
}

# OffsetCommit v2, a simple commit (generation -1, no member) of
# trades/0 at $off: the partition's error code.
sub commit {
	my ($corr, $off) = @_;
	my $r = request(8, 2, $corr, str('cf') . pack('N', 0xffffffff) . str('')
	    . pack('q>', -1) . pack('N', 1) . str('trades') . pack('N', 1)
	    . pack('N q> n', 0, $off, 0xffff));
	# corr, [topic "trades", [partition, error]]
	my ($c, undef, undef, undef, undef, $err) = unpack('N N n/a* N N n', $r);
	return defined $c && $c == $corr ? $err : -1;
}

# OffsetFetch v1 of trades/0: the committed offset.
sub fetched {
	my ($corr) = @_;
	my $r = request(9, 1, $corr, str('cf') . pack('N', 1) . str('trades')
	    . pack('N N', 1, 0));
	my ($c, undef, undef, undef, undef, $off) =
	    unpack('N N n/a* N N q>', $r);
	return defined $c && $c == $corr ? $off : -100;
}

is(commit(1, 11), 0, 'a commit is acknowledged');
is(fetched(2), 11, 'and read back');

my $data = $d->dir . '/data';
remove_tree($data);
is(commit(3, 22), 15,
    'data_dir gone: COORDINATOR_NOT_AVAILABLE, not an acknowledgement');
ok($d->log_like(qr/cannot persist the offsets committed by group cf/),
    'logged with the group');
make_path($data);
is(commit(4, 22), 0, 'with the directory back the same commit is '
    . 'acknowledged');
is(fetched(5), 22, 'and read back');
ok(-s "$data/groups.state", 'the offsets file is written again');
close $s;
ok($d->alive, 'the daemon is still running');
is($d->stop, 0, 'clean exit');
done_testing();
