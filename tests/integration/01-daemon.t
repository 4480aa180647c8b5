# The daemon's contract: configuration, secrets, pidfile, signals.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Daemon qw(dead_port run_cmd slurp tmult wait_listening);

my $bin = $ENV{FINNSTREAMD} or die "FINNSTREAMD is not set";
my $dir = tempdir(CLEANUP => 1);

sub write_file {
	my ($path, $text, $mode) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh;
	chmod($mode, $path) if defined $mode;
}

# --check-config: 0 for a good file, 1 with file:line for a bad one.
write_file("$dir/good.conf", <<'EOC');
# a comment
symbols AAPL, BINANCE:BTCUSDT
feed sim
partitions 8
log_retention_bytes 64m
log_retention_ms 30m
http_listen 127.0.0.1:8081
store_fsync always
EOC
my ($st, $out, $err) = run_cmd([$bin, '-c', "$dir/good.conf",
    '--check-config']);
is($st, 0, '--check-config accepts a good file') or diag($err);
like($out, qr/configuration OK/, 'and says so');

write_file("$dir/bad.conf", <<'EOC');
feed sim
partitions 0
no_such_key 1
log_retention_bytes lots
feed_url http://example.com
EOC
($st, $out, $err) = run_cmd([$bin, '-c', "$dir/bad.conf", '--check-config']);
is($st >> 8, 1, '--check-config rejects a bad file with exit 1');
like($err, qr/\Q$dir\E\/bad\.conf:2: partitions: 0 is out of range/,
    'file:line for an out-of-range value');
like($err, qr/bad\.conf:3: unknown key "no_such_key"/, 'unknown key');
like($err, qr/bad\.conf:4: log_retention_bytes: "lots" is not a valid size/,
    'bad size');
like($err, qr/feed_url: must start with ws:\/\/ or wss:\/\//, 'bad URL');

($st, $out, $err) = run_cmd([$bin, '--partitions', '9999', '--check-config']);
is($st >> 8, 1, 'command-line values are validated too');
like($err, qr/--partitions: partitions: 9999 is out of range/,
    '--key errors name the option');

# The token: refused on the command line, never echoed.
my $secret = 'sEcReT-t0ken-value';
($st, $out, $err) = run_cmd([$bin, '--token', $secret, '--check-config']);
is($st >> 8, 1, 'token refused on the command line');
like($err, qr/--token: not accepted on the command line/, 'with a reason');
unlike($err, qr/\Q$secret\E/, 'the refused token is not echoed');

# A mis-spelled secret line (`token=...`, `key: value`) is an error that
# names the key and never shows what follows it.
write_file("$dir/typo.conf",
    "token=$secret\nhttp_auth_token:$secret\nFINNHUB_TOKEN=$secret\n", 0600);
($st, $out, $err) = run_cmd([$bin, '-c', "$dir/typo.conf", '--check-config']);
is($st >> 8, 1, 'key=value lines are errors');
like($err, qr/typo\.conf:1: unknown key "token\.\.\."/,
    'naming the key only') or diag($err);
like($err, qr/typo\.conf:2: unknown key "http_auth_token\.\.\."/,
    'also with a colon');
like($err, qr/separated by a space/, 'saying how keys and values go');
unlike($err, qr/\Q$secret\E/, 'never echoing the value');
($st, $out, $err) = run_cmd([$bin, "--http_auth_token:$secret",
    "--token=$secret", "--FINNHUB_TOKEN=$secret", '--check-config']);
is($st >> 8, 1, 'the same typos on the command line are errors');
unlike($err, qr/\Q$secret\E/, 'and never echo the value') or diag($err);

($st, $out, $err) = run_cmd([$bin, '--feed', 'finnhub', '--check-config']);
is($st >> 8, 1, 'feed finnhub without a token is an error');
like($err, qr/finnhub needs a token/, 'saying what is missing');

($st, $out, $err) = run_cmd([$bin, '--kafka_listen', '0.0.0.0:9092',
    '--check-config']);
is($st >> 8, 1, 'a wildcard kafka_listen needs kafka_advertised');
($st, $out, $err) = run_cmd([$bin, '--kafka_listen', '0.0.0.0:9092',
    '--kafka_advertised', 'host.example:9092', '--check-config']);
is($st, 0, 'and is fine with it');

write_file("$dir/token.conf", "token $secret\nfeed finnhub\n", 0644);
($st, $out, $err) = run_cmd([$bin, '-c', "$dir/token.conf",
    '--check-config']);
is($st, 0, 'token from the config file');
like($err, qr/readable by others/, 'warns when that file is world-readable');
unlike($err . $out, qr/\Q$secret\E/, 'without printing the token');

# A real run with a token, an unreachable upstream: the token must not
# appear in any log line, even at debug level.
my ($dead, $dead_sock) = dead_port();
my $d = Daemon->new(args => ['--feed', 'finnhub', '--feed_url',
    "ws://127.0.0.1:$dead/path", '--feed_backoff_max_ms', '100'],
    env => {FINNHUB_TOKEN => $secret});
ok($d->log_like(qr/reconnect|refused|connect/i, 5),
    'finnhub feed retries an unreachable upstream') or diag($d->log);
my ($watch) = $d->log =~ /watch the trades: kcat -b (\S+) -t trades -C/;
is($watch, '127.0.0.1:' . $d->port,
    'the kcat hint names the bound port (kafka_listen :0)');
is($d->stop, 0, 'SIGTERM: exit 0');
unlike($d->log, qr/\Q$secret\E/, 'the token appears in no log line');

# The daemon is not our child after -d: a zombie (where nothing reaps
# it) counts as gone.
sub running {
	my ($p) = @_;
	return 0 unless $p && kill(0, $p);
	my $stat = slurp("/proc/$p/stat");
	return $stat !~ /^\d+ \(.*\) Z/;
}

# Daemonize with a pidfile; a second instance is refused; SIGTERM removes
# the pidfile.
my $pidfile = "$dir/finnstreamd.pid";
write_file("$dir/d.conf", "feed sim\n", 0600);
($st, $out, $err) = run_cmd([$bin, '-d', '--pidfile', $pidfile,
    '-c', "$dir/d.conf",
    '--kafka_listen', '127.0.0.1:0', '--http_listen', '127.0.0.1:0',
    '--data_dir', "$dir/data", '--log_file', "$dir/daemon.log"], 20);
is($st, 0, '-d returns 0 once the daemon is up') or diag($err);
ok(wait_listening("$dir/daemon.log", 10), 'the daemon listens');
my $pid = slurp($pidfile);
chomp $pid;
like($pid, qr/^\d+$/, 'pidfile holds a pid');
ok(running($pid), 'and that process runs');
($st, $out, $err) = run_cmd([$bin, '-d', '--pidfile', $pidfile,
    '--kafka_listen', '127.0.0.1:0', '--http_listen', '127.0.0.1:0',
    '--data_dir', "$dir/data2", '--log_file', "$dir/daemon2.log"], 20);
isnt($st, 0, 'a second instance on the same pidfile is refused');
like($err . slurp("$dir/daemon2.log"), qr/already running \(pid $pid\)/,
    'naming the running pid');

# SIGHUP reopens log_file (log rotation).
rename("$dir/daemon.log", "$dir/daemon.log.1") or die;
kill 'HUP', $pid;
my $end = time + 5 * tmult();
sleep 0.05 while !-s "$dir/daemon.log" && time < $end;
like(slurp("$dir/daemon.log"), qr/SIGHUP/, 'SIGHUP reopens log_file');

# After -d, stderr is /dev/null: a reload's errors go to the log too.
write_file("$dir/d.conf", "feed sim\npartitions 0\ntoken=$secret\n", 0600);
kill 'HUP', $pid;
$end = time + 5 * tmult();
sleep 0.05 while slurp("$dir/daemon.log") !~ /keeping the old one/ &&
    time < $end;
my $dlog = slurp("$dir/daemon.log");
like($dlog, qr/d\.conf:2: partitions: 0 is out of range/,
    'a detached daemon logs the errors of a failed reload');
like($dlog, qr/d\.conf:3: unknown key "token\.\.\."/, 'each of them');
like($dlog, qr/keeping the old one/, 'and keeps its configuration');
unlike($dlog, qr/\Q$secret\E/, 'without the secret');
ok(running($pid), 'still running');

kill 'TERM', $pid;
$end = time + 10 * tmult();
sleep 0.05 while running($pid) && time < $end;
ok(!running($pid), 'SIGTERM stops the daemon');
ok(!-e $pidfile, 'and removes its pidfile');
like(slurp("$dir/daemon.log"), qr/shutting down/, 'logging why');

done_testing();
