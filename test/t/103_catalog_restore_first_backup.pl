# 103_catalog_restore_first_backup.pl — the complete-loss order the issue followed:
# a new server that preloads the library from the start (its launcher running,
# waiting for the extension, with the defaults: verification after each backup, 8
# worker processes), app restored with --create, then the catalog database restored
# into the existing postgres (its dump creates the extension; CREATE EXTENSION then
# says it already exists).  The first backups after that, queued and waited on in
# one statement (the expedited path) and apart, and the first after a restart, all
# succeed.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $prod = RippleTest::Cluster->new_node('prod', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
RippleTest::Cluster::create_app_db($prod, 'app', 2000);
for my $db (qw(app postgres app)) {
	my $id = RippleTest::Cluster::backup_now($prod, $db);
	is(RippleTest::Cluster::wait_backup($prod, $id), 'succeeded', "backup of $db");
}
my $cat = RippleTest::Cluster::backup_now($prod, 'postgres');
is(RippleTest::Cluster::wait_backup($prod, $cat), 'succeeded', 'backup of the catalog');
$prod->stop;

# the defaults of a new server: verification after each backup, 8 worker processes
my $new = RippleTest::Cluster->new_node('new', destination => "file://$dir", extension => 0,
	conf => "max_worker_processes = 8\n");
sub cli {
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, @_, '--destination', "file://$dir", '--host', $new->host, '--port', $new->port ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}
my ($rc, $out, $err) = cli('restore', 'latest', '--db', 'app', '--dbname', 'app', '--create');
is($rc, 0, 'app restored') or diag $err;
($rc, $out, $err) = cli('restore', 'latest', '--db', 'postgres', '--dbname', 'postgres');
is($rc, 0, 'catalog restored into postgres while the launcher runs') or diag $err;
my $log_offset = -s $new->logfile;
my ($ret, $o, $e) = $new->psql('postgres', 'CREATE EXTENSION ripple_backup');
like($e, qr/already exists/, 'the dump created the extension: CREATE EXTENSION says it already exists');
# the first backups at once, waited on in the same statement (the expedited path) and apart
for my $n (1 .. 3) {
	my $st = $new->safe_psql('postgres', "SELECT ripple_backup_wait(ripple_backup_now('app'))");
	is($st, 'succeeded', "backup $n after the catalog restore (queued and waited on in one statement) succeeded")
	  or diag($new->safe_psql('postgres', 'SELECT id, status, error FROM ripple_backup.backups ORDER BY id DESC LIMIT 3')
		  . "\n" . slurp_file($new->logfile, $log_offset));
	my $id = RippleTest::Cluster::backup_now($new, 'app');
	is(RippleTest::Cluster::wait_backup($new, $id), 'succeeded', "backup $n after the catalog restore (queued, then waited on) succeeded")
	  or diag(RippleTest::Cluster::backup_row($new, $id)->{error} . "\n" . slurp_file($new->logfile, $log_offset));
}
# and after a restart, the first thing done
$new->restart;
my $st = $new->safe_psql('postgres', "SELECT ripple_backup_wait(ripple_backup_now('app'))");
is($st, 'succeeded', 'the first backup right after a restart succeeded')
  or diag($new->safe_psql('postgres', 'SELECT id, status, error FROM ripple_backup.backups ORDER BY id DESC LIMIT 3'));
done_testing();
