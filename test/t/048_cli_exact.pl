# 048_cli_exact.pl — the row counts that "ripple-backup restore" compares after a
# restore are exact for every database shape, and run as the role that restored:
#   - 5,000 tables (with long names): counted in bounded batches, no psql argv grows
#     with the number of tables (this part passed on today's CLI too: it batched);
#   - inheritance (a parent with 1 row, a child with 2, a grandchild with 3) is
#     counted with FROM ONLY, and declarative partitioning (rows dumped per leaf,
#     sub-partitioned and default partitions) is exact too;
#   - the catalog database (the one holding the extension), restored into a fresh
#     cluster as the runbook's complete-loss scenario does: CREATE EXTENSION re-adds
#     the nightly job that the dump leaves out, so the extension's own tables are
#     left out of the comparison, and the output says so;
#   - --role ROLE: pg_restore --role and SET ROLE for the counting session, so the
#     dump's code (a CHECK constraint that refuses to run as a superuser) runs as
#     ROLE, and the new database is ROLE's; with FORCE ROW LEVEL SECURITY, a count
#     that the role's policies would filter fails instead of being silently
#     smaller; a missing role, or one the user may not SET ROLE to, stops the restore
#     before the download; a restore whose code would have superuser rights is warned
#     about, and the reason is shown: a CHECK function that runs RESET ROLE escapes
#     SET ROLE from a superuser's connection, not from a member role's.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $backup_run = "$ENV{RIPPLE_SRC}/build/tools/backup_run";
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');

my $node = PostgreSQL::Test::Cluster->new('src');
$node->init;
# pg_dump locks every table it dumps in one transaction
$node->append_conf('postgresql.conf', "max_locks_per_transaction = 1024\n");
$node->start;
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

my %base_env = (%ENV);
delete $base_env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE|USER)$)/ } keys %base_env;
$base_env{HOME} = $work;

sub cli {
	my ($args, %env) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%base_env, %env);
	IPC::Run::run([ $cli, @$args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $next_id = 1;
sub backup {
	my ($db) = @_;
	my ($out, $err) = ('', '');
	my $id = $next_id++;
	IPC::Run::run([ $backup_run, '--dest', "file://$dir", '--dbname', $db, '--host', $node->host,
		'--port', $node->port, '--id', $id, '--sysid', $sysid ], '<', \undef, '>', \$out, '2>', \$err);
	is($? >> 8, 0, "backup $id of $db") or diag $err;
	return $id;
}

sub table_counts {
	my ($id) = @_;
	my ($rc, $out, $err) = cli([ 'info', $id, '--destination', "file://$dir", '--json' ]);
	is($rc, 0, "info $id") or diag $err;
	return decode_json($out)->{table_counts};
}

my @T = ('--destination', "file://$dir", '--host', $node->host, '--port', $node->port,
	'--work-dir', $work);

# --- 5,000 tables ------------------------------------------------------------------
{
	$node->safe_psql('postgres', 'CREATE DATABASE many');
	$node->safe_psql('many', q{
		DO $$
		BEGIN
			FOR g IN 1 .. 5000 LOOP
				EXECUTE format('CREATE TABLE public.%I AS SELECT generate_series(1, %s) AS id',
							   'table_number_' || g || '_' || repeat('x', 40), g % 3);
			END LOOP;
		END
		$$;
	});
	is($node->safe_psql('many', q{SELECT count(*) FROM pg_tables WHERE schemaname = 'public'}),
		'5000', '5,000 tables');
	my $id = backup('many');
	my $t0 = time;
	my ($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'many_restored', '--create', '--jobs', '2' ]);
	is($rc, 0, '5,000 tables: restore exits 0') or diag $err;
	like($err, qr/row counts match the backup for all 5000 tables \(5001 rows/,
		'5,000 tables: every table was counted and matched');
	unlike($err, qr/Argument list too long/, '5,000 tables: no "Argument list too long"');
	diag('restore of 5,000 tables took ' . (time - $t0) . ' s: ' . ($out =~ s/\n//r));
	$node->safe_psql('postgres', 'DROP DATABASE many_restored');
	$node->safe_psql('postgres', 'DROP DATABASE many');
}

# --- inheritance and declarative partitioning --------------------------------------
{
	$node->safe_psql('postgres', 'CREATE DATABASE shapes');
	$node->safe_psql('shapes', q{
		CREATE TABLE parent (id int);
		CREATE TABLE child (extra text) INHERITS (parent);
		CREATE TABLE grandchild () INHERITS (child);
		INSERT INTO parent VALUES (1);
		INSERT INTO child VALUES (2, 'a'), (3, 'b');
		INSERT INTO grandchild VALUES (4, 'c'), (5, 'd'), (6, 'e');

		CREATE TABLE measures (id int, region text) PARTITION BY LIST (region);
		CREATE TABLE measures_eu PARTITION OF measures FOR VALUES IN ('eu');
		CREATE TABLE measures_us PARTITION OF measures FOR VALUES IN ('us') PARTITION BY RANGE (id);
		CREATE TABLE measures_us_low PARTITION OF measures_us FOR VALUES FROM (MINVALUE) TO (100);
		CREATE TABLE measures_us_high PARTITION OF measures_us FOR VALUES FROM (100) TO (MAXVALUE);
		CREATE TABLE measures_other PARTITION OF measures DEFAULT;
		INSERT INTO measures SELECT g, 'eu' FROM generate_series(1, 10) g;
		INSERT INTO measures SELECT g, 'us' FROM generate_series(1, 150) g;
		INSERT INTO measures SELECT g, 'asia' FROM generate_series(1, 7) g;
	});
	my $id = backup('shapes');
	my %leaves = ('public.parent' => 1, 'public.child' => 2, 'public.grandchild' => 3,
		'public.measures_eu' => 10, 'public.measures_us_low' => 99, 'public.measures_us_high' => 51,
		'public.measures_other' => 7);
	my $tc = table_counts($id);
	# the partitioned parents have no rows of their own in the dump
	is($tc->{'public.measures'} // 0, 0, 'partitioned parent: no rows of its own in the metadata');
	is($tc->{'public.measures_us'} // 0, 0, 'sub-partitioned parent: no rows of its own in the metadata');
	delete @$tc{qw(public.measures public.measures_us)};
	is_deeply($tc, \%leaves, 'the metadata counts each table\'s own rows (leaves, parent, children)');
	my ($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'shapes_restored', '--create' ]);
	is($rc, 0, 'inheritance and partitions: restore exits 0') or diag $err;
	unlike($err, qr/table public\.parent has 6 rows/, 'the parent is counted without its children');
	like($err, qr/row counts match the backup for all \d+ tables \(173 rows/,
		'inheritance and partitions: every count matches');
	is($node->safe_psql('shapes_restored', 'SELECT count(*) FROM ONLY parent'), '1',
		'the restored parent has its own row');
}

# --- --role: the dump's code and the counts run as that role -----------------------
{
	$node->safe_psql('postgres', q{
		CREATE ROLE app_owner NOLOGIN;
		CREATE DATABASE owned OWNER app_owner;
	});
	# a CHECK constraint whose function refuses to run as a superuser
	$node->safe_psql('owned', q{
		SET ROLE app_owner;
		CREATE FUNCTION public.not_as_superuser(v int) RETURNS boolean LANGUAGE sql AS
			$$ SELECT NOT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user $$;
		CREATE TABLE public.guarded (v int CHECK (public.not_as_superuser(v)));
		INSERT INTO public.guarded SELECT generate_series(1, 25);
	});
	my $id = backup('owned');

	my ($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_su', '--create', '--no-owner' ]);
	is($rc, 1, 'without --role the dump\'s CHECK runs as the connecting superuser and refuses');
	like($err, qr/violates check constraint "guarded_v_check"/, 'the CHECK constraint ran as the superuser');
	like($err, qr/warning: the restore runs as superuser "\w+": the dump's code .* runs with superuser rights/,
		'without --role, a restore as a superuser is warned about');
	like($err, qr/hint: For a dump you do not trust, connect \(--username\) as a role without superuser rights/,
		'and the hint says to connect as a role without superuser rights');

	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_r', '--create', '--no-owner',
		'--role', 'app_owner' ]);
	is($rc, 0, 'restore --role app_owner exits 0') or diag $err;
	like($err, qr/warning: the restore connects as superuser "\w+": the dump's code runs as "app_owner" after SET ROLE, but can return to the superuser with RESET ROLE/,
		'--role from a superuser\'s session: warned that SET ROLE does not confine the code');
	like($err, qr/row counts match the backup for all 1 tables \(25 rows/, '--role: the counts match');
	is($node->safe_psql('postgres', q{SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'owned_r'}),
		'app_owner', '--create --role: the new database is owned by the role');
	is($node->safe_psql('owned_r', q{SELECT tableowner FROM pg_tables WHERE tablename = 'guarded'}),
		'app_owner', '--role: pg_restore created the objects as the role');
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app_owner'}),
		'f', 'the role is still not a superuser');

	# into an existing database owned by the role (no --create)
	$node->safe_psql('postgres', 'CREATE DATABASE owned_existing OWNER app_owner');
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_existing', '--no-owner',
		'--role', 'app_owner' ]);
	is($rc, 0, 'restore --role into an existing database exits 0') or diag $err;
	like($err, qr/row counts match the backup for all 1 tables \(25 rows/, 'existing database: the counts match');

	# without --no-owner: the dump's objects belong to the role already
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_keep', '--create', '--role', 'app_owner' ]);
	is($rc, 0, 'restore --role without --no-owner (the objects are the role\'s) exits 0') or diag $err;

	# a role name that needs quoting, in pg_restore's SET ROLE and in the counting session's
	$node->safe_psql('postgres', q{CREATE ROLE "App ""Owner""" NOLOGIN});
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_quoted', '--create', '--no-owner',
		'--role', 'App "Owner"' ]);
	is($rc, 0, 'restore --role \'App "Owner"\' exits 0') or diag $err;
	is($node->safe_psql('owned_quoted', q{SELECT tableowner FROM pg_tables WHERE tablename = 'guarded'}),
		'App "Owner"', 'the objects belong to the role with the odd name');

	# a user that may not SET ROLE to it is stopped before the download
	$node->safe_psql('postgres', 'CREATE ROLE outsider LOGIN CREATEDB');
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_out', '--create', '--no-owner',
		'--username', 'outsider', '--role', 'app_owner' ]);
	is($rc, 1, 'a user that is not a member of --role: exit 1');
	like($err, qr/user "outsider" may not SET ROLE to "app_owner"/, 'not a member: clear error');
	unlike($err, qr/downloaded/, 'not a member: nothing was downloaded');
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_x', '--role', '' ]);
	is($rc, 2, 'an empty --role is a usage error');

	# the counting session is the role's too: FORCE ROW LEVEL SECURITY applies to it,
	# and a count the policies would filter fails instead of being silently smaller
	$node->safe_psql('owned', q{
		SET ROLE app_owner;
		CREATE TABLE public.secret AS SELECT generate_series(1, 9) AS id;
		ALTER TABLE public.secret ENABLE ROW LEVEL SECURITY;
		ALTER TABLE public.secret FORCE ROW LEVEL SECURITY;
		CREATE POLICY nobody ON public.secret USING (false);
	});
	$id = backup('owned');
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_rls', '--create', '--no-owner',
		'--role', 'app_owner' ]);
	is($rc, 4, 'FORCE RLS hiding rows from the role: restore exits 4');
	like($err, qr/table public\.secret could not be counted in the restored database \(9 rows expected\)/,
		'FORCE RLS: the table could not be counted (not a smaller count)');
	like($err, qr/row-level security/, 'FORCE RLS: psql says why');
	$node->safe_psql('postgres', 'ALTER ROLE app_owner BYPASSRLS');
	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_rls2', '--create', '--no-owner',
		'--role', 'app_owner' ]);
	is($rc, 0, 'FORCE RLS with a BYPASSRLS role: restore exits 0') or diag $err;
	like($err, qr/row counts match the backup for all 2 tables \(34 rows/, 'FORCE RLS with BYPASSRLS: exact counts');

	# The attacker's way out of SET ROLE: a CHECK function, written by the (non-
	# superuser) owner of the database, that returns to the session user.  From a
	# superuser's session it succeeds, as the warning says; from a login role
	# without superuser rights that is a member of the owner, it cannot escalate.
	$node->safe_psql('postgres', q{
		CREATE ROLE mallory LOGIN;
		CREATE DATABASE hostile OWNER mallory;
	});
	$node->safe_psql('hostile', q{
		CREATE FUNCTION public.escape(v int) RETURNS boolean LANGUAGE plpgsql AS $$
		BEGIN
			BEGIN
				EXECUTE 'RESET ROLE';
				EXECUTE 'ALTER ROLE mallory SUPERUSER';
			EXCEPTION WHEN OTHERS THEN
				NULL;
			END;
			RETURN true;
		END
		$$;
		CREATE TABLE public.loot (v int CHECK (public.escape(v)));
		INSERT INTO public.loot SELECT generate_series(1, 3);
	}, extra_params => [ '-U', 'mallory' ]);
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
		'f', 'mallory is not a superuser after loading its own data');
	my $hid = backup('hostile');
	($rc, $out, $err) = cli([ 'restore', $hid, @T, '--dbname', 'hostile_su', '--create', '--no-owner',
		'--role', 'mallory' ]);
	is($rc, 0, 'restore --role mallory from a superuser\'s session exits 0') or diag $err;
	like($err, qr/warning: the restore connects as superuser/, 'and warns that it connects as a superuser');
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
		't', 'from a superuser\'s session the dump\'s code escapes SET ROLE (what the warning says)');
	$node->safe_psql('postgres', 'ALTER ROLE mallory NOSUPERUSER');

	$node->safe_psql('postgres', q{
		CREATE ROLE restorer LOGIN CREATEDB;
		GRANT mallory TO restorer;
	});
	($rc, $out, $err) = cli([ 'restore', $hid, @T, '--dbname', 'hostile_safe', '--create', '--no-owner',
		'--username', 'restorer', '--role', 'mallory' ]);
	is($rc, 0, 'restore --username restorer --role mallory exits 0') or diag $err;
	unlike($err, qr/warning: .*superuser/, 'a restore without superuser rights is not warned about');
	like($err, qr/row counts match the backup for all 1 tables \(3 rows/, 'restorer/mallory: the counts match');
	is($node->safe_psql('postgres', q{SELECT string_agg(rolname || '=' || rolsuper, ',' ORDER BY rolname)
		FROM pg_roles WHERE rolname IN ('mallory', 'restorer')}),
		'mallory=false,restorer=false', 'the dump\'s code could not escalate: neither role is a superuser');
	is($node->safe_psql('postgres', q{SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'hostile_safe'}),
		'mallory', 'the database belongs to mallory');

	($rc, $out, $err) = cli([ 'restore', $id, @T, '--dbname', 'owned_x', '--create', '--role', 'no_such_role' ]);
	is($rc, 1, 'an unknown --role fails');
	like($err, qr/role "no_such_role" does not exist/, 'an unknown --role: clear error');
	unlike($err, qr/downloaded/, 'an unknown --role: nothing was downloaded');
}

# --- the catalog database, into a fresh cluster (runbook scenario 4) ---------------
{
	my $cdir = PostgreSQL::Test::Utils::tempdir('catalog_backups');
	my $cat = RippleTest::Cluster->new_node('catalog', destination => "file://$cdir",
		conf => "ripple_backup.verify_after_backup = off\n");
	$cat->safe_psql('postgres', q{
		CREATE TABLE public.things AS SELECT g AS id FROM generate_series(1, 1234) g;
		SELECT ripple_backup_schedule('hourly', '0 * * * *', 'postgres', 'UTC');
	});
	my $id = RippleTest::Cluster::backup_now($cat, 'postgres');
	is(RippleTest::Cluster::wait_backup($cat, $id), 'succeeded', 'backup of the catalog database');
	# the extension's own tables whose rows pg_dump keeps (pg_extension_config_dump)
	my $ext_tables = $cat->safe_psql('postgres',
		"SELECT count(*) FROM pg_extension e CROSS JOIN LATERAL unnest(e.extconfig) AS c(oid)"
		. " JOIN pg_class r ON r.oid = c.oid WHERE e.extname = 'ripple_backup' AND r.relkind = 'r'");
	$cat->stop;

	my $new = PostgreSQL::Test::Cluster->new('replacement');
	$new->init;
	$new->start;
	my ($rc, $out, $err) = cli([ 'restore', $id, '--destination', "file://$cdir", '--db', 'postgres',
		'--dbname', 'postgres', '--host', $new->host, '--port', $new->port, '--work-dir', $work ]);
	is($rc, 0, 'restore of the catalog database into a fresh cluster exits 0') or diag $err;
	note($err);
	unlike($err, qr/table ripple_backup\.jobs has 2 rows/, 'no false mismatch on ripple_backup.jobs');
	like($err, qr/row counts match the backup for all 1 tables \(1234 rows/,
		'the user table beside the extension is counted');
	like($err, qr/$ext_tables tables of extension ripple_backup \(schema ripple_backup\) restored but not compared \(2 rows at backup time\)/,
		'the output says the extension\'s tables were not compared');
	is($new->safe_psql('postgres', 'SELECT string_agg(job_name, \',\' ORDER BY job_name) FROM ripple_backup.jobs'),
		'hourly,nightly', 'the restored catalog has its job and the nightly one');
	$new->stop;
}

$node->stop;
done_testing();
