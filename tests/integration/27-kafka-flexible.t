# A client that speaks only the flexible versions (KIP-482) of the
# protocol: @platformatic/kafka (npm), which implements nothing older
# (ApiVersions 3+, Metadata 9+, Produce 9+ once it sees them advertised,
# Fetch 12+ by topic id, OffsetCommit 8+, OffsetFetch 8+, JoinGroup 6+,
# ...).  It produces, consumes in a group committing each record, resumes
# from its commits, and lists, describes and reads the group through its
# admin client.
use strict;
use warnings;
use Test::More;
use Daemon qw(run_cmd);

my $entry = "$ENV{top_srcdir}/.npm-deps/node_modules/\@platformatic/kafka/"
    . 'dist/index.js';
plan skip_all => 'node >= 20 and @platformatic/kafka (./setup.sh deps '
    . 'installs them) are needed'
    unless -f $entry &&
    system('node', '-e', 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)') == 0;

my $d = Daemon->new(args => ['--sim_rate', '10', '--partitions', '2',
    '--group_initial_rebalance_delay_ms', '0']);
my ($st, $out, $err) = run_cmd(['node',
    "$ENV{top_srcdir}/tests/integration/lib/flexible_check.mjs", $entry,
    $d->kafka], 150);
is($st, 0, 'the flexible-only client ran') or diag($err);
my %r = $out =~ /^(\w+)=(.*)$/mg;
is($r{first}, 20, 'a group consumer reads all 20 records');
is($r{second}, 5, 'after 5 more, the next run reads exactly those 5');
is($r{second_new}, 1, 'none of them seen before: it resumed at its commits');
is($r{committed_sum}, 25, 'OffsetFetch v8+ (by group): the commits');
is($r{listed}, 1, 'ListGroups v5 lists the group');
is($r{state}, 'EMPTY', 'DescribeGroups v5: the group is Empty')
    or diag("state: $r{state}");
is($r{topic_id}, 1, 'Metadata v12 gives the topic an id');
is($r{partitions}, 2, 'and its 2 partitions');
is($d->stop, 0, 'clean exit');
done_testing();
