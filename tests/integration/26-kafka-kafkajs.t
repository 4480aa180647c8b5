# kafkajs 2.2.4 (npm) against the broker: producer with acks=-1 and 1, a
# consumer group with commits, the admin API (fetchTopicMetadata,
# fetchOffsets, describeGroups, listGroups, setOffsets), and the reset to
# the earliest record after a committed offset was trimmed by retention.
use strict;
use warnings;
use Test::More;
use Daemon qw(run_cmd);

my $mod = "$ENV{top_srcdir}/.npm-deps/node_modules/kafkajs";
plan skip_all => 'node and kafkajs (./setup.sh deps installs them) are '
    . 'needed' unless system('node', '-e', '0') == 0 && -d $mod;

my $d = Daemon->new(args => ['--sim_rate', '10', '--partitions', '2',
    '--group_initial_rebalance_delay_ms', '0', '--log_retention_bytes', '1m']);
my ($st, $out, $err) = run_cmd(['node',
    "$ENV{top_srcdir}/tests/integration/lib/kafkajs_check.js", $mod,
    $d->kafka], 150);
is($st, 0, 'kafkajs check ran') or diag($err);
my %r = $out =~ /^(\w+)=(.*)$/mg;
is($r{produced}, 40, 'produced 40 (acks -1 and 1)');
is($r{metadata_partitions}, 2, 'admin.fetchTopicMetadata: 2 partitions');
is($r{consumed}, 40, 'consumer group: all 40');
is($r{committed_sum}, 40, 'admin.fetchOffsets: the commits cover them');
is($r{state}, 'Empty', 'admin.describeGroups: Empty after disconnect');
is($r{listed}, 1, 'admin.listGroups lists the group');
cmp_ok($r{start} // 0, '>', 5, 'retention trimmed the committed offset');
is($r{first}, $r{start}, 'kafkajs resets to the earliest retained record');
is($d->stop, 0, 'clean exit');
done_testing();
