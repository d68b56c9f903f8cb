# 077_backup_nice.pl — ripple_backup.backup_nice lowers the CPU and I/O priority of a
# backup: pg_dump, the server process that answers pg_dump's queries and the runner
# run at that nice value and in the best-effort I/O class at the matching level,
# read from /proc (and ionice) while the backup runs (pg_dump waits on a lock that a
# session holds, so there is time to look).  Without the setting they run at the
# server's priority.  A user cannot set ripple_backup.session_nice, nor can the
# configuration file.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('backup_nice', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
RippleTest::Cluster::create_app_db($node, 'app', 1000);

# field 19 of /proc/PID/stat (after the parenthesised command name: field 3 on)
sub nice_of {
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return undef;
	my $stat = <$fh>;
	close $fh;
	$stat =~ s/^.*\)\s+//s;
	my @f = split /\s+/, $stat;
	return $f[19 - 3];
}

sub ionice_of {
	my ($pid) = @_;
	my $out = `ionice -p $pid 2>/dev/null`;
	chomp $out;
	return $out;
}

my $have_ionice = system('ionice -p $$ >/dev/null 2>&1') == 0;

# One backup held on a lock; returns the nice values of pg_dump's server process,
# pg_dump and the runner, and their I/O classes, while it waits.
sub priorities_during_backup {
	my ($label) = @_;
	my $bg = $node->background_psql('app', on_error_stop => 1);
	$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	my $backend = RippleTest::Cluster::poll_value($node, 'app',
		"SELECT coalesce((SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
		  . " AND application_name = 'ripple_backup $id'), 0) > 0", 't', 60);
	is($backend, 't', "$label: pg_dump is running, waiting on the lock");
	my $backend_pid = $node->safe_psql('app',
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'ripple_backup $id'");
	my $runner = $node->safe_psql('postgres',
		"SELECT pid FROM ripple_backup.progress WHERE backup_id = $id");
	my %kids = %{ RippleTest::Cluster::children_of($runner) };
	my ($dump) = grep { $kids{$_} eq 'pg_dump' } keys %kids;
	ok(defined $dump, "$label: the runner's pg_dump child found");
	my %p = (
		backend => nice_of($backend_pid),
		pg_dump => nice_of($dump),
		runner => nice_of($runner),
		backend_io => ionice_of($backend_pid),
		pg_dump_io => ionice_of($dump),
	);
	$bg->query_safe('COMMIT');
	$bg->quit;
	is(RippleTest::Cluster::wait_backup($node, $id, '120 s'), 'succeeded', "$label: the backup succeeds");
	return \%p;
}

# the server's own nice value (0, unless the test itself runs under nice)
my $server = nice_of($node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'}));
my $low = $server > 15 ? $server : 15;
my $p = priorities_during_backup('default');
is($p->{backend}, $server, "default: the server process answering pg_dump runs at the server's nice value ($server)");
is($p->{pg_dump}, $server, "default: pg_dump runs at the server's nice value");
is($p->{runner}, $server, "default: the runner runs at the server's nice value");

$node->safe_psql('postgres', 'ALTER SYSTEM SET ripple_backup.backup_nice = 15');
$node->reload;
$p = priorities_during_backup('backup_nice = 15');
is($p->{backend}, $low, "backup_nice = 15: the server process answering pg_dump runs at nice $low");
is($p->{pg_dump}, $low, "backup_nice = 15: pg_dump runs at nice $low");
is($p->{runner}, $low, "backup_nice = 15: the runner runs at nice $low");
SKIP: {
	skip 'ionice (util-linux) cannot read I/O priorities here', 2 unless $have_ionice;
	skip 'the server runs at nice 15 or lower already: its I/O class is left alone', 2 if $server >= 15;
	is($p->{backend_io}, 'best-effort: prio 7', 'backup_nice = 15: its server process in the lowest best-effort I/O level');
	is($p->{pg_dump_io}, 'best-effort: prio 7', 'backup_nice = 15: pg_dump in the lowest best-effort I/O level');
}
{
	my $other = $node->background_psql('postgres', on_error_stop => 1);
	my $pid = $other->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	is(nice_of($pid), $server, 'other sessions keep the server priority');
	$other->quit;
}

# the session setting is the backups' own
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
my ($rc, $out, $err);
($rc) = $node->psql('postgres', 'SELECT 1', connstr => $node->connstr('postgres') . ' user=plain options=-cripple_backup.session_nice=5',
	stderr => \$err);
isnt($rc, 0, 'a user without superuser rights cannot set ripple_backup.session_nice');
like($err, qr/permission denied to set parameter "ripple_backup\.session_nice"/, 'permission denied');
($rc, $out, $err) = $node->psql('postgres', 'ALTER SYSTEM SET ripple_backup.session_nice = 5');
isnt($rc, 0, 'ripple_backup.session_nice cannot go into the configuration file');
like($err, qr/cannot be changed|cannot be set|not allowed/, "ALTER SYSTEM refused: $err");

done_testing();
