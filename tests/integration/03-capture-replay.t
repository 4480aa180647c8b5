# capture PATH records the feed's frames; replay:PATH@SPEED plays them back
# through the same parser; a torn tail is cut before appending.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Daemon qw(slurp);

my $dir = tempdir(CLEANUP => 1);
my $cap = "$dir/feed.cap";

my $d = Daemon->new(args => ['--sim_rate', '1000', '--capture', $cap]);
ok($d->log_like(qr/capturing raw feed frames to/), 'capture announced');
sleep 1;
is($d->stop, 0, 'clean exit');
my $n1 = 0;
{
	# The records of the first run, counted by a second daemon that
	# replays the capture ten times faster.
	my $r = Daemon->new(args => ['--feed', "replay:$cap\@10"]);
	ok($r->log_like(qr/replay: finished/, 10), 'replay finishes')
	    or diag($r->log);
	$n1 = $r->count;
	cmp_ok($n1, '>', 500, "replay appended the captured trades ($n1)");
	is($r->stop, 0, 'clean exit');
}

# A torn record at the end (a crash mid-write) is cut off before the
# capture is appended to, so the file stays readable.
open(my $fh, '>>', $cap) or die;
print $fh "\0\0\1\x8c" . ("x" x 7);
close $fh;
$d = Daemon->new(args => ['--sim_rate', '1000', '--capture', $cap]);
ok($d->log_like(qr/cutting a torn final record of 11 bytes/),
    'a torn tail is cut, and said so') or diag($d->log);
sleep 0.5;
$d->stop;
my $r = Daemon->new(args => ['--feed', "replay:$cap\@20"]);
ok($r->log_like(qr/replay: finished/, 10), 'the appended capture replays')
    or diag($r->log);
unlike($r->log, qr/bad record|torn/, 'to its end, without damage');
cmp_ok($r->count, '>', $n1, 'with the trades of both runs');
$r->stop;

# One flipped byte in the middle is damage, not a torn tail: the daemon
# refuses to append, names the offset, and leaves the file as it is.
{
	my $size = -s $cap;
	open(my $fh, '+<', $cap) or die;
	binmode $fh;
	seek($fh, int($size / 2), 0);
	read($fh, my $c, 1);
	seek($fh, int($size / 2), 0);
	print $fh chr(ord($c) ^ 0x20);
	close $fh;
	my $damaged = slurp($cap);
	my ($st, $out, $err) = Daemon::run_cmd([$ENV{FINNSTREAMD},
	    '--sim_rate', '1000', '--capture', $cap, '--kafka_listen',
	    '127.0.0.1:0', '--http_listen', '127.0.0.1:0', '--data_dir',
	    "$dir/d3"], 10);
	isnt($st, 0, 'a capture damaged in the middle: start-up refused');
	like($err, qr/damaged record at byte \d+ .*left as it is/,
	    'naming the offset and what to do') or diag($err);
	is(-s $cap, $size, 'the capture keeps every byte');
	ok(slurp($cap) eq $damaged, 'unchanged');
}

# Not a capture: a clear error at start-up.
open($fh, '>', "$dir/junk") or die;
print $fh "hello, this is not a capture\n";
close $fh;
my ($st, $out, $err) = Daemon::run_cmd([$ENV{FINNSTREAMD}, '--feed',
    "replay:$dir/junk", '--kafka_listen', '127.0.0.1:0',
    '--http_listen', '127.0.0.1:0', '--data_dir', "$dir/d"], 10);
isnt($st, 0, 'replaying a file that is not a capture fails');
like($err, qr/not a capture file/, 'saying so');
done_testing();
