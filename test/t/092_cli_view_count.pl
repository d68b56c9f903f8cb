# 092_cli_view_count.pl — "ripple-backup restore" counts tables, not what the
# dump's code put in their place (finding 6 of the restore-verify review, CLI
# side): a materialized view refreshed at the end of the restore empties a table
# and puts a view with as many rows under its name.  The restore must not report
# the backup verified (exit 4, the table named).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $backup_run = "$ENV{RIPPLE_SRC}/build/tools/backup_run";
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');

my $node = PostgreSQL::Test::Cluster->new('src');
$node->init;
$node->start;
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

my %env = (%ENV);
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE|USER)$)/ } keys %env;
$env{HOME} = $work;

$node->safe_psql('postgres', 'CREATE DATABASE evil');
$node->safe_psql('evil', q{
CREATE TABLE public.t (v int);
INSERT INTO public.t VALUES (1), (2), (3);
CREATE FUNCTION public.swap() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	IF current_database() = 'evil_restored' THEN
		DELETE FROM public.t;
		ALTER TABLE public.t RENAME TO t_gone;
		CREATE VIEW public.t AS SELECT g AS v FROM pg_catalog.generate_series(1, 3) g;
	END IF;
	RETURN 1;
END$$;
CREATE MATERIALIZED VIEW public.mv_swap AS SELECT public.swap() AS x;
});

my ($out, $err) = ('', '');
IPC::Run::run([ $backup_run, '--dest', "file://$dir", '--dbname', 'evil', '--host', $node->host,
	'--port', $node->port, '--id', 1, '--sysid', $sysid ], '<', \undef, '>', \$out, '2>', \$err);
is($? >> 8, 0, 'backup of evil') or diag $err;

{
	local %ENV = %env;
	IPC::Run::run([ $cli, 'restore', 1, '--destination', "file://$dir", '--host', $node->host,
		'--port', $node->port, '--work-dir', $work, '--dbname', 'evil_restored', '--create' ],
		'<', \undef, '>', \$out, '2>', \$err);
}
my $rc = $? >> 8;
is($node->safe_psql('evil_restored', "SELECT relkind FROM pg_class WHERE oid = 'public.t'::regclass"), 'v',
	'the dump\'s code put a view in the place of table public.t');
is($node->safe_psql('evil_restored', 'SELECT count(*) FROM public.t_gone'), '0', 'and emptied the table');
is($rc, 4, 'restore exits 4 (verification failed), not 0') or diag "$out\n$err";
like("$out$err", qr/public\.t\b.*could not be counted/, 'and names the table');

$node->stop;
done_testing();
