# 073_out_of_memory.pl — src/core running out of memory never takes the cluster
# down.  A shim preloaded into the server (LD_PRELOAD, built here) makes malloc
# fail for one exact size: the size of the URL that rb_destination_open allocates
# for a file:// destination of a chosen (odd) length, a size nothing else in the
# server asks for (PostgreSQL's own blocks are multiples of 8, and the setting's
# copy is one byte longer: it ends in a slash that the URL drops).
#
#  - fails once: the runner's emergency reserve serves the allocation, its
#    cancel hook stops the backup, pg_dump is reaped and nothing is left in the
#    directory; the backup fails "out of memory", the runner exits normally;
#  - fails always: no memory even after the reserve; the runner ends with
#    FATAL "out of memory" (exit code 1) and its slot records that reason;
#  - the CLI, with the same failure, prints "ripple-backup: out of memory" and
#    exits with status 1.
#
# In every case no process ends by a signal and the postmaster never reinitializes:
# the launcher keeps its pid, a session opened before stays connected, and a
# backup afterwards succeeds.  (Before rb_alloc, src/core called abort(): the
# runner died of SIGABRT and the postmaster restarted every backend.)
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir();

# --- the shim: malloc(n) fails (ENOMEM) for one size once, for another always ------
my $shim = "$tmp/malloc_fail.so";
{
	open my $fh, '>', "$tmp/malloc_fail.c" or die $!;
	print $fh <<'C';
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);

static size_t once_size, always_size;
static int	ready, once_done;

static size_t
size_from(const char *name)
{
	const char *v = getenv(name);

	return v ? (size_t) strtoull(v, NULL, 10) : 0;
}

void *
malloc(size_t n)
{
	if (!ready)
	{
		once_size = size_from("RB_TEST_MALLOC_FAIL_ONCE");
		always_size = size_from("RB_TEST_MALLOC_FAIL_ALWAYS");
		ready = 1;
	}
	if ((n == once_size && !once_done) || n == always_size)
	{
		static const char msg[] = "malloc_fail shim: refusing an allocation\n";

		if (n == once_size)
			once_done = 1;
		(void) !write(2, msg, sizeof(msg) - 1);
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}
C
	close $fh;
	my $cc = $ENV{CC} // 'cc';
	system($cc, '-shared', '-fPIC', '-O1', '-o', $shim, "$tmp/malloc_fail.c") == 0
	  or die "could not build the malloc shim";
}

# A directory path of exactly $len bytes (components of at most 200).
sub path_of_length {
	my ($base, $len) = @_;
	my $p = $base;
	while (length($p) < $len) {
		my $n = $len - length($p) - 1;
		$n = 200 if $n > 200;
		$n = 1 if $n < 1;
		$p .= '/' . ('d' x $n);
	}
	die "path of length $len came out " . length($p) if length($p) != $len;
	return $p;
}

# rb_destination_open allocates "file://" + path + NUL: length + 8 bytes.
my $once_dir = path_of_length("$tmp/once", 1501);
my $always_dir = path_of_length("$tmp/always", 1601);
my $good_dir = "$tmp/good";
my $once_size = length($once_dir) + 8;
my $always_size = length($always_dir) + 8;

my $node = RippleTest::Cluster->new_node('oom', no_start => 1,
	destination => "file://$once_dir/",
	conf => "ripple_backup.compression = 'none'\nrestart_after_crash = on\n");
{
	local $ENV{LD_PRELOAD} = $shim;
	local $ENV{RB_TEST_MALLOC_FAIL_ONCE} = $once_size;
	local $ENV{RB_TEST_MALLOC_FAIL_ALWAYS} = $always_size;
	$node->start;
}
$node->safe_psql('postgres', 'CREATE EXTENSION ripple_backup');
$node->safe_psql('postgres', 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');

my $launcher_sql = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'";
my $launcher = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) > 0 FROM ($launcher_sql) l", 't', 30);
$launcher = $node->safe_psql('postgres', $launcher_sql);
like($launcher, qr/^\d+$/, "the launcher runs (pid $launcher)");

# a session that a reinitialization would end
my ($in, $out) = ('', '');
my $session = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', '-' ],
	'<', \$in, '>', \$out, '2>', \$out);

sub session_says {
	my ($sql) = @_;
	$out = '';
	$in .= "$sql\n";
	my $until = time + 30;
	$session->pump_nb while $out !~ /\n/ && time < $until && $session->pumpable;
	chomp(my $v = $out);
	return $v;
}
my $session_pid = session_says('SELECT pg_backend_pid();');
like($session_pid, qr/^\d+$/, "a session is open before (pid $session_pid)");

sub set_destination {
	my ($url) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.destination = '$url'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.destination', $url, 30);
}

sub files_under {
	my ($dir) = @_;
	return () unless -d $dir;
	my @f;
	File::Find::find(sub { push @f, $File::Find::name if -f $_ }, $dir);
	return @f;
}
use File::Find ();

# --- fails once: the reserve serves it, the backup winds down and fails --------------
{
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'once: the backup failed');
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error}, qr/^out of memory: the operation was stopped and cleaned up$/,
		"once: the reason is out of memory: $row->{error}");
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/malloc_fail shim: refusing an allocation/, 'once: the allocation was refused');
	unlike($log, qr/FATAL:\s+out of memory/, 'once: no FATAL, the reserve served it');
	unlike($log, qr/exited with exit code|terminated by signal/, 'once: the runner exited normally');
	is_deeply([ files_under($once_dir) ], [], 'once: nothing is left in the destination (no temporary file)');
}

# --- fails always: FATAL, exit code 1, the slot says why -----------------------------
set_destination("file://$always_dir/");
{
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'always: the backup failed');
	my $row = RippleTest::Cluster::backup_row($node, $id);
	is($row->{error}, 'out of memory', 'always: the reason is out of memory');
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/FATAL:\s+out of memory\n.*DETAIL:\s+Failed on request of size $always_size in ripple_backup\./,
		'always: the runner ended with FATAL out of memory, naming the size');
	like($log, qr/background worker "ripple_backup runner" \(PID \d+\) exited with exit code 1/,
		'always: the runner exited with code 1');
	unlike($log, qr/terminated by signal/, 'always: no process ended by a signal');
}

# --- the cluster was never reinitialized ------------------------------------------------
is(session_says('SELECT 1;'), '1', "the session opened before is still connected");
is($node->safe_psql('postgres', $launcher_sql), $launcher, 'the launcher kept its pid');
set_destination("file://$good_dir");
{
	my $id = RippleTest::Cluster::backup_now($node, 'postgres');
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'a backup afterwards succeeds');
}
my $log = slurp_file($node->logfile);
unlike($log, qr/all server processes terminated; reinitializing/, 'the postmaster never reinitialized');
unlike($log, qr/terminated by signal/, 'no server process ended by a signal');

$in .= "\\q\n";
$session->finish;

# --- the CLI: a message and exit status 1 ------------------------------------------------
{
	local $ENV{LD_PRELOAD} = $shim;
	local $ENV{RB_TEST_MALLOC_FAIL_ALWAYS} = $always_size;
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::run([ "$ENV{RIPPLE_SRC}/src/cli/ripple-backup", 'list', '--destination', "file://$always_dir" ],
		'>', \$stdout, '2>', \$stderr);
	my $status = $?;
	ok(!($status & 127), 'cli: not ended by a signal (status ' . $status . ')');
	is($status >> 8, 1, 'cli: exit status 1');
	like($stderr, qr/^ripple-backup: out of memory$/m, "cli: says so on stderr");
}

done_testing();
