# 103_catalog_restore_first_backup.pl — the first backup after the catalog database
# (the one holding the extension) is restored into a server whose launcher is
# already running (the library preloaded before the restore): it succeeds, or the
# reason it did not is recorded.
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

my $new = RippleTest::Cluster->new_node('new', destination => "file://$dir", extension => 0,
	conf => "ripple_backup.verify_after_backup = off\n");
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
for my $n (1 .. 3) {
	my $id = RippleTest::Cluster::backup_now($new, 'app');
	my $st = RippleTest::Cluster::wait_backup($new, $id);
	is($st, 'succeeded', "backup $n after the catalog restore succeeded")
	  or diag(RippleTest::Cluster::backup_row($new, $id)->{error} . "\n" . slurp_file($new->logfile, $log_offset));
}
done_testing();
