# 091_verify_attacks.pl — a restore-level verify attacked by the owner of an
# ordinary database (mallory) whose backup gets verified, and by any role that can
# log in while another tenant's backup is verified:
#   1. a schema whose name holds a newline and a CREATE EXTENSION line: the server's
#      rebuilt schema and extension statements must not take that line for a
#      statement of its own (it would create an untrusted extension as superuser);
#   2. the scratch database is open to PUBLIC: any role could connect to another
#      tenant's restored copy while it is verified (its source forbade it);
#   3. the restored code sets the restore role's password to one it knows and logs
#      in with it (then could come back in a later tenant's verify);
#   4. the restored code marks the scratch database IS_TEMPLATE: it must still be
#      dropped (else it stays forever, with the tenant's data, and every later verify
#      of that backup fails);
#   5. any role that can connect to the catalog database holds the advisory lock key
#      of the restore verify: verifies must not wait for it;
#   6. the restored code empties a table and puts a view with as many rows in its
#      place: the count must not be taken from the view.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use IPC::Run;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('attacks', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
# as docs/configuration.md says: the restore role logs in with a password
my $hba = slurp_file($node->data_dir . '/pg_hba.conf');
open my $fh, '>', $node->data_dir . '/pg_hba.conf' or die;
print $fh "local all ripple_backup_restore scram-sha-256\n", $hba;
close $fh;
$node->reload;
$node->safe_psql('postgres', 'CREATE ROLE mallory LOGIN');

sub backup_of {
	my ($db) = @_;
	my $id = RippleTest::Cluster::backup_now($node, $db);
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', "backup of $db succeeded");
	return $id;
}

sub verify_row {
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT verify_status || '|' || coalesce(verify_error, '<NULL>') FROM ripple_backup.backups WHERE id = $id");
}

# as mallory: 30 s of REFRESH when run by the restore role (a window to act in)
my $nap = q{
CREATE FUNCTION public.nap() RETURNS int LANGUAGE plpgsql AS
	$$BEGIN IF current_user = 'ripple_backup_restore' THEN PERFORM pg_catalog.pg_sleep(30); END IF; RETURN 1; END$$;
CREATE MATERIALIZED VIEW public.mv_nap AS SELECT public.nap() AS x;
};

# starts a restore verify in the background; returns the harness and its output ref
sub verify_in_background {
	my ($id) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c', "SELECT ripple_backup_verify($id, 'restore')" ],
		'>', \$out, '2>', \$err);
	return ($h, \$out);
}

sub wait_for_nap {
	return RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = 'ripple_backup_restore'"
		  . " AND query LIKE '%REFRESH MATERIALIZED VIEW%'", 't', 60);
}

# --- 1. a newline in a schema name smuggles a CREATE EXTENSION line -------------------------
$node->safe_psql('postgres', 'CREATE DATABASE evil1 OWNER mallory');
$node->safe_psql('evil1', q{SET ROLE mallory;
DO $$BEGIN
	EXECUTE pg_catalog.format('CREATE SCHEMA %I',
		E'x\nCREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;\n');
END$$;
CREATE FUNCTION public.canary(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'dblink') THEN
		RAISE EXCEPTION 'INJECTED: the superuser created extension dblink in the scratch database';
	END IF;
	RETURN true;
END$$;
CREATE TABLE public.t_canary (v int CHECK (public.canary(v)));
INSERT INTO public.t_canary VALUES (1);
});
is($node->safe_psql('evil1', "SELECT count(*) FROM pg_extension WHERE extname = 'dblink'"), '0',
	'finding 1: the source database has no dblink');
my $id1 = backup_of('evil1');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id1, 'restore')");
is(verify_row($id1), 'verified|<NULL>',
	'finding 1: the schema named with a newline restores as a schema; no extension is created from its name');

# --- 2. the scratch database is open to every role ------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE victim; REVOKE ALL ON DATABASE victim FROM PUBLIC');
$node->safe_psql('victim', q{
CREATE FUNCTION public.secret() RETURNS text LANGUAGE sql AS $$SELECT 'the victim''s secret'$$;
CREATE TABLE public.t (v int);
INSERT INTO public.t VALUES (1);
} . $nap);
my ($r) = $node->psql('victim', 'SELECT 1', connstr => $node->connstr('victim') . ' user=mallory');
isnt($r, 0, 'finding 2: mallory may not connect to the victim database');
my $id2 = backup_of('victim');
my ($h, $bgout) = verify_in_background($id2);
is(wait_for_nap(), 't', 'finding 2: the victim backup is being restored');
my $scratch = "ripple_backup_verify_$id2";
($r, $out, $err) = $node->psql($scratch, "SELECT prosrc FROM pg_proc WHERE proname = 'secret'",
	connstr => $node->connstr($scratch) . ' user=mallory');
isnt($out, "SELECT 'the victim''s secret'",
	'finding 2: mallory cannot read the victim\'s function source from the scratch database');
isnt($r, 0, 'finding 2: mallory cannot connect to the scratch database') or diag($err);
$h->finish;
is($$bgout, "verified\n", 'finding 2: the victim backup verifies');

# --- 3. the restored code gives the restore role a password it knows -------------------------
$node->safe_psql('postgres', 'CREATE DATABASE evil3 OWNER mallory');
$node->safe_psql('evil3', q{SET ROLE mallory;
CREATE FUNCTION public.pw(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF current_user = 'ripple_backup_restore' THEN
		BEGIN
			ALTER ROLE ripple_backup_restore PASSWORD 'mallory-knows';
		EXCEPTION WHEN OTHERS THEN NULL;
		END;
	END IF;
	RETURN true;
END$$;
CREATE TABLE public.t_pw (v int CHECK (public.pw(v)));
INSERT INTO public.t_pw VALUES (1);
} . $nap);
my $id3 = backup_of('evil3');
($h, $bgout) = verify_in_background($id3);
is(wait_for_nap(), 't', 'finding 3: the attacker backup is being restored');
my ($lout, $lerr) = ('', '');
my $login = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres') . ' user=ripple_backup_restore password=mallory-knows',
	  '-c', 'SELECT pg_sleep(120)' ],
	'>', \$lout, '2>', \$lerr);
RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = 'ripple_backup_restore' AND datname = 'postgres'",
	't', 5);
$h->finish;
is($$bgout, "verified\n", 'finding 3: the attacker backup verifies');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ripple_backup_restore'"),
	'0', 'finding 3: no session of the restore role outlives the verify');
$login->finish;
like($lerr, qr/password authentication failed/, 'finding 3: the password the restored code chose never let anyone log in');

# --- 4. the restored code marks its scratch database IS_TEMPLATE -----------------------------
$node->safe_psql('postgres', 'CREATE DATABASE evil4 OWNER mallory');
$node->safe_psql('evil4', q{SET ROLE mallory;
CREATE FUNCTION public.tmpl(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF current_user = 'ripple_backup_restore' THEN
		EXECUTE pg_catalog.format('ALTER DATABASE %I IS_TEMPLATE true', pg_catalog.current_database());
	END IF;
	RETURN true;
END$$;
CREATE TABLE public.t_tmpl (v int CHECK (public.tmpl(v)));
INSERT INTO public.t_tmpl VALUES (1);
});
my $id4 = backup_of('evil4');
$node->psql('postgres', "SELECT ripple_backup_verify($id4, 'restore')");
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'ripple_backup_verify_$id4'"),
	'0', 'finding 4: the scratch database marked IS_TEMPLATE is dropped all the same');
is(verify_row($id4), 'verified|<NULL>', 'finding 4: and the verify is verified');

# --- 5. another role holds the advisory lock key of the restore verify ------------------------
# 8244244221035634530 = 0x726970706c655f62, the key the verifier took with pg_advisory_lock
my ($lk_out, $lk_err) = ('', '');
my $locker = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres') . ' user=mallory',
	  '-c', 'SELECT pg_advisory_lock(8244244221035634530)', '-c', 'SELECT pg_sleep(120)' ],
	'>', \$lk_out, '2>', \$lk_err);
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'"
		  . " AND a.usename = 'mallory' AND l.granted", '1', 10),
	'1', 'finding 5: mallory holds the advisory lock key 0x726970706c655f62 in the catalog database');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id1, 'restore', '20 seconds')");
is($out, 'verified', 'finding 5: a restore verify does not wait for a lock any role may take') or diag($err);
$locker->kill_kill;

# --- 6. the restored code empties a table and puts a view of as many rows in its place --------
$node->safe_psql('postgres', 'CREATE DATABASE evil6 OWNER mallory');
$node->safe_psql('evil6', q{SET ROLE mallory;
CREATE TABLE public.t (v int);
INSERT INTO public.t VALUES (1), (2), (3);
CREATE FUNCTION public.swap() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	IF current_user = 'ripple_backup_restore' THEN
		DELETE FROM public.t;
		ALTER TABLE public.t RENAME TO t_gone;
		CREATE VIEW public.t AS SELECT g AS v FROM pg_catalog.generate_series(1, 3) g;
	END IF;
	RETURN 1;
END$$;
CREATE MATERIALIZED VIEW public.mv_swap AS SELECT public.swap() AS x;
});
my $id6 = backup_of('evil6');
$node->psql('postgres', "SELECT ripple_backup_verify($id6, 'restore')");
like(verify_row($id6), qr/^failed\|.*table public\.t is not an ordinary table/,
	'finding 6: a view counted in place of the emptied table is no verified backup');

$node->stop;
done_testing();
