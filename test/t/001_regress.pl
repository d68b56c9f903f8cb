# 001_regress.pl — runs the pg_regress tests of the SQL surface
# (test/regress/sql/*.sql against test/regress/expected/*.out) on a cluster with
# ripple_backup preloaded and a file:// destination, and checks what pg_regress
# cannot: the error without shared_preload_libraries.
use strict;
use warnings;
use File::Basename qw(basename);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $src = $ENV{RIPPLE_SRC} or die "RIPPLE_SRC is not set";
my $backups = PostgreSQL::Test::Utils::tempdir('backups');

my $node = RippleTest::Cluster->new_node('regress',
	destination => "file://$backups", extension => 0);

my @tests = map { basename($_, '.sql') } sort glob("$src/test/regress/sql/*.sql");
ok(@tests > 0, 'there are pg_regress tests');

my $outdir = "$PostgreSQL::Test::Utils::tmp_check/regress";
mkdir $outdir;
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $rc = system($ENV{PG_REGRESS} // 'pg_regress',
	"--inputdir=$src/test/regress", "--outputdir=$outdir", "--bindir=$bindir",
	'--use-existing', '--host=' . $node->host, '--port=' . $node->port,
	'--dbname=postgres', @tests);
is($rc, 0, 'pg_regress: ' . join(' ', @tests));
if ($rc != 0 && -f "$outdir/regression.diffs") {
	diag(slurp_file("$outdir/regression.diffs"));
}

# Loaded only by CREATE EXTENSION (no shared_preload_libraries): a clear error.
my $plain = RippleTest::Cluster->new_node('plain', preload => 0, extension => 0,
	destination => "file://$backups");
$plain->safe_psql('postgres', 'CREATE EXTENSION ripple_backup');
my ($ret, $out, $err) = $plain->psql('postgres', 'SELECT ripple_backup_now()');
isnt($ret, 0, 'ripple_backup_now() fails without shared_preload_libraries');
like($err, qr/ripple_backup must be loaded via shared_preload_libraries/, '... saying so');
like($err, qr/HINT:\s+Add ripple_backup to shared_preload_libraries/, '... with a hint');
($ret, $out, $err) = $plain->psql('postgres', 'SELECT * FROM ripple_backup.progress');
like($err, qr/must be loaded via shared_preload_libraries/, 'the progress view says so too');
is($plain->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups'), '0',
	'the catalog is still readable');

$plain->stop;
$node->stop;
done_testing();
