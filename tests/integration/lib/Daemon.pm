# Daemon.pm: start finnstreamd and its peers for the integration tests
# (Perl core modules only).  Every listener binds port 0 and the test
# reads the port from the "listening on" line, so tests never race for a
# free port.
#
#	my $d = Daemon->new(args => ['--feed', 'sim']);   # starts it
#	$d->kafka;			# "127.0.0.1:PORT"
#	$d->http;			# "127.0.0.1:PORT" of the HTTP stage
#	$d->log_like(qr/.../, 5);	# wait up to 5 s for a log line
#	$d->stop;			# SIGTERM, returns the exit status
package Daemon;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Exporter 'import';

our @EXPORT_OK = qw(dead_port wait_listening wait_http run_cmd tmult
    start_proc stop_proc slurp);

sub tmult { return $ENV{TEST_TIMEOUT_MULTIPLIER} || 1 }

# The watchdog: a test file that runs past this fails instead of hanging
# make check.  Processes it started are stopped by their DESTROY on exit.
our $WATCHDOG_S = 300;
$SIG{ALRM} = sub {
	print "Bail out! watchdog: the test ran past ",
	    $WATCHDOG_S * tmult(), " s\n";
	exit 255;
};
alarm($WATCHDOG_S * tmult());
# Tests write to sockets the daemon may close: an error, not a signal.
$SIG{PIPE} = 'IGNORE';

# A port nobody can connect to while $sock lives: bound, never listening.
# Returns ($port, $sock); keep $sock until the test is done.
sub dead_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp') or die "dead_port: $!";
	return ($s->sockport, $s);
}

# Wait up to $secs for the daemon's "kafka: listening on HOST:PORT" line
# in $path; returns the port, or undef (also when $pid exits first).
sub wait_listening {
	my ($path, $secs, $pid) = @_;
	my $end = time + $secs * tmult();
	while (time < $end) {
		return $1 if slurp($path) =~
		    /kafka: listening on (?:[\d.]+|\[[^\]]*\]):(\d+)/;
		return undef if $pid && waitpid($pid, WNOHANG) != 0;
		sleep 0.02;
	}
	return undef;
}

# The same for "http: listening on HOST:PORT"; returns the port or undef.
sub wait_http {
	my ($path, $secs, $pid) = @_;
	my $end = time + $secs * tmult();
	while (time < $end) {
		return $1 if slurp($path) =~
		    /http: listening on (?:[\d.]+|\[[^\]]*\]):(\d+)/;
		return undef if $pid && waitpid($pid, WNOHANG) != 0;
		sleep 0.02;
	}
	return undef;
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	my $s = <$fh>;
	close $fh;
	return defined $s ? $s : '';
}

# Fork and exec @cmd with stdout/stderr to files; returns the pid.
sub start_proc {
	my ($cmd, $out, $err, $env) = @_;
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out) or die "$out: $!";
		open(STDERR, '>', $err) or die "$err: $!";
		%ENV = (%ENV, %{$env || {}});
		exec @$cmd or die "exec $cmd->[0]: $!";
	}
	return $pid;
}

# SIGTERM (or $sig), wait up to $secs; SIGKILL after.  Returns $?.
sub stop_proc {
	my ($pid, $secs, $sig) = @_;
	return undef unless $pid;
	kill($sig || 'TERM', $pid);
	my $end = time + ($secs || 10) * tmult();
	while (time < $end) {
		my $r = waitpid($pid, WNOHANG);
		return $? if $r == $pid;
		return undef if $r < 0;
		sleep 0.02;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	return undef;
}

# Run a command with a time limit; returns (exit status, stdout, stderr).
sub run_cmd {
	my ($cmd, $secs, $env, $stdin) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		if (defined $stdin) {
			open(my $in, '>', "$dir/in") or die;
			print $in $stdin;
			close $in;
			open(STDIN, '<', "$dir/in");
		} else {
			open(STDIN, '<', '/dev/null');
		}
		open(STDOUT, '>', "$dir/out");
		open(STDERR, '>', "$dir/err");
		%ENV = (%ENV, %{$env || {}});
		exec @$cmd or exit 127;
	}
	my $end = time + ($secs || 30) * tmult();
	my $st;
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) { $st = $?; last }
		if (time > $end) {
			kill 'KILL', $pid;
			waitpid($pid, 0);
			$st = -1;
			last;
		}
		sleep 0.01;
	}
	return ($st, slurp("$dir/out"), slurp("$dir/err"));
}

sub new {
	my ($class, %o) = @_;
	my $self = bless {}, $class;
	$self->{dir} = $o{dir} || tempdir(CLEANUP => 1);
	$self->{bin} = $ENV{FINNSTREAMD} or die "FINNSTREAMD is not set";
	$self->{args} = [
		'--kafka_listen', '127.0.0.1:0',
		'--http_listen', '127.0.0.1:0',
		'--data_dir', "$self->{dir}/data",
		'--log_level', $o{log_level} || 'debug',
		@{$o{args} || []},
	];
	$self->{env} = $o{env} || {};
	$self->start unless $o{no_start};
	return $self;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub kafka { "127.0.0.1:$_[0]{port}" }
sub http_port { $_[0]{http_port} }
sub http { "127.0.0.1:$_[0]{http_port}" }
sub pid { $_[0]{pid} }
sub logfile { "$_[0]{dir}/stderr" }
sub log { slurp($_[0]->logfile) }

sub start {
	my ($self) = @_;
	# A restart rewrites stderr: remove the old one first, so the port
	# read below is this start's.
	unlink $self->logfile;
	$self->{pid} = start_proc([$self->{bin}, @{$self->{args}}],
	    "$self->{dir}/stdout", $self->logfile, $self->{env});
	$self->{port} = wait_listening($self->logfile, 10, $self->{pid});
	die "finnstreamd did not start listening:\n" . $self->log
	    unless $self->{port};
	$self->{http_port} = wait_http($self->logfile, 10, $self->{pid});
	die "finnstreamd's HTTP stage did not start listening:\n" . $self->log
	    unless $self->{http_port};
	return $self;
}

# Wait until the log matches $re (up to $secs); returns true if it did.
sub log_like {
	my ($self, $re, $secs) = @_;
	my $end = time + ($secs || 5) * tmult();
	while (time < $end) {
		return 1 if $self->log =~ $re;
		sleep 0.02;
	}
	return 0;
}

sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid};
	return waitpid($self->{pid}, WNOHANG) == 0;
}

sub stop {
	my ($self, $sig) = @_;
	my $st = stop_proc($self->{pid}, 10, $sig);
	$self->{pid} = undef;
	return $st;
}

# kcat against this daemon: kcat(['-C', '-t', 'trades', ...], secs)
sub kcat {
	my ($self, $args, $secs, $stdin) = @_;
	my $kcat = $ENV{KCAT} || 'kcat';
	return run_cmd([$kcat, '-b', $self->kafka, @$args], $secs || 20,
	    undef, $stdin);
}

# Offsets of each partition by ListOffsets (kcat -Q): $which is -1 for
# the end (high watermark), -2 for the start.  Returns {partition => n}.
# A live topic never reaches EOF for every partition at once, so counting
# with kcat -e would hang; offsets answer at once.
sub offsets {
	my ($self, $topic, $nparts, $which) = @_;
	my @q = map { ('-t', "$topic:$_:$which") } 0 .. $nparts - 1;
	my ($st, $out, $err) = $self->kcat(['-Q', @q], 20);
	my %o = $out =~ /^\S+ \[(\d+)\] offset (-?\d+)$/mg;
	return \%o;
}

# Records retained in a topic (sum over partitions of end - start).
sub count {
	my ($self, $topic, $nparts) = @_;
	$topic ||= 'trades';
	$nparts ||= 4;
	my $end = $self->offsets($topic, $nparts, -1);
	my $start = $self->offsets($topic, $nparts, -2);
	my $n = 0;
	$n += $end->{$_} - ($start->{$_} || 0) for keys %$end;
	return $n;
}

sub DESTROY {
	my ($self) = @_;
	stop_proc($self->{pid}, 5) if $self->{pid};
}

# A finnhub-sim server: Daemon::Sim->new(args => [...]).
package Daemon::Sim;

use strict;
use warnings;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);

sub new {
	my ($class, %o) = @_;
	my $self = bless {}, $class;
	$self->{dir} = tempdir(CLEANUP => 1);
	my @cmd = $o{cmd} ? @{$o{cmd}} :
	    ($ENV{FINNHUB_SIM} || die("FINNHUB_SIM is not set"));
	push @cmd, @{$o{args} || []};
	$self->{pid} = Daemon::start_proc(\@cmd, "$self->{dir}/stdout",
	    "$self->{dir}/stderr");
	my $end = time + 10 * Daemon::tmult();
	while (time < $end) {
		if (Daemon::slurp("$self->{dir}/stdout") =~
		    /listening on ([\d.]+):(\d+)/) {
			$self->{host} = $1;
			$self->{port} = $2;
			last;
		}
		last if waitpid($self->{pid}, POSIX::WNOHANG()) != 0;
		sleep 0.02;
	}
	die "peer did not start:\n" . Daemon::slurp("$self->{dir}/stderr")
	    unless $self->{port};
	return $self;
}

sub port { $_[0]{port} }
sub url { "ws://127.0.0.1:$_[0]{port}" }
sub log { Daemon::slurp("$_[0]{dir}/stderr") }

sub log_like {
	my ($self, $re, $secs) = @_;
	my $end = time + ($secs || 5) * Daemon::tmult();
	while (time < $end) {
		return 1 if $self->log =~ $re;
		sleep 0.02;
	}
	return 0;
}

sub stop {
	my ($self) = @_;
	my $st = Daemon::stop_proc($self->{pid}, 5);
	$self->{pid} = undef;
	return $st;
}

sub DESTROY {
	my ($self) = @_;
	Daemon::stop_proc($self->{pid}, 5) if $self->{pid};
}

1;
