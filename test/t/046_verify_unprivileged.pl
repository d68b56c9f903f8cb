# 046_verify_unprivileged.pl — a restore-level verify runs the backup's code as an
# unprivileged role, never as a superuser.  An attacker who owns a database plants
# a function that, whenever current_user is a superuser, promotes a role of its
# own, changes settings (ALTER ROLE ... SET, ALTER DATABASE ... SET, ALTER SYSTEM),
# reads and writes server files and takes over another database; it is reached
# from a CHECK constraint, an index expression, a generated column, a domain check,
# a column default and a row trigger (both reached from a materialized view's
# refresh), a materialized view's query and an event trigger.  After the verify,
# none of it happened, the verify is truthful (verified: every attempt was caught
# by the attacker's own exception handlers, the counts match), the restore role is
# locked again (NOLOGIN, no password, no settings), the event trigger was left out
# with a logged note, extensions (pgcrypto, trusted; file_fdw, untrusted) and a
# FORCE ROW LEVEL SECURITY table restore and count exactly, a C function outside an
# extension fails the verify with its reason, and the per-run password works when
# pg_hba.conf asks the restore role for scram-sha-256 (peer fails with a hint).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use IPC::Run;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $loot = PostgreSQL::Test::Utils::tempdir('loot');
my $node = RippleTest::Cluster->new_node('unpriv', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nlog_statement = 'all'\n");

my @vectors = qw(check index gen domain default trigger matview evtrig);
$node->safe_psql('postgres', join('', map { "CREATE ROLE v_$_ LOGIN;\n" } @vectors)
	  . "CREATE ROLE mallory LOGIN;\nCREATE DATABASE evil OWNER mallory;\n");

# The attacker's payload: every attempt in its own exception block, so that it
# never makes the restore fail (an attacker wants a quiet success).
$node->safe_psql('evil', qq{
SET ROLE mallory;
CREATE FUNCTION public.esc(tag text, v int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS \$f\$
DECLARE
	victim text := 'v_' || tag;
BEGIN
	BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', victim); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER ROLE %I SET log_statement = %L', victim, 'none'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER ROLE %I SET work_mem = %L', current_user, '1MB'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER ROLE %I IN DATABASE postgres SET work_mem = %L', current_user, '1MB'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', current_user, 'owned'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE 'ALTER SYSTEM SET log_min_messages = panic'; EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN PERFORM pg_catalog.set_config('log_statement', 'none', false); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER DATABASE postgres SET work_mem = %L', '2MB'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('ALTER DATABASE postgres OWNER TO %I', victim); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('COPY (SELECT 1) TO %L', '$loot/' || tag || '.copy'); EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('COPY (SELECT pg_catalog.pg_read_file(%L)) TO %L', 'PG_VERSION', '$loot/' || tag || '.read');
	EXCEPTION WHEN OTHERS THEN NULL; END;
	BEGIN EXECUTE format('COMMENT ON ROLE %I IS %L', victim, 'read: ' || pg_catalog.pg_read_file('PG_VERSION'));
	EXCEPTION WHEN OTHERS THEN NULL; END;
	RETURN true;
END
\$f\$;
-- index expressions and generated columns want an immutable function: a wrapper lies
CREATE FUNCTION public.esc_i(tag text, v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
	\$\$BEGIN RETURN public.esc(tag, v); END\$\$;
CREATE TABLE public.t_check (v int CHECK (public.esc('check', v)));
INSERT INTO public.t_check VALUES (1), (2);
CREATE TABLE public.t_index (v int);
INSERT INTO public.t_index VALUES (1), (2), (3);
CREATE INDEX ON public.t_index ((public.esc_i('index', v)));
CREATE TABLE public.t_gen (v int, g boolean GENERATED ALWAYS AS (public.esc_i('gen', v)) STORED);
INSERT INTO public.t_gen (v) VALUES (1);
CREATE DOMAIN public.d_checked AS int CHECK (public.esc('domain', VALUE));
CREATE TABLE public.t_domain (v public.d_checked);
INSERT INTO public.t_domain VALUES (1);
CREATE TABLE public.t_default (v int, d boolean DEFAULT public.esc('default', 0));
CREATE TABLE public.t_trigger (v int);
INSERT INTO public.t_trigger VALUES (1);
CREATE FUNCTION public.trg() RETURNS trigger LANGUAGE plpgsql AS
	\$\$BEGIN PERFORM public.esc('trigger', NEW.v); RETURN NEW; END\$\$;
CREATE TRIGGER t_trigger_bi BEFORE INSERT ON public.t_trigger FOR EACH ROW EXECUTE FUNCTION public.trg();
CREATE FUNCTION public.poke() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
	INSERT INTO public.t_trigger VALUES (7);
	DELETE FROM public.t_trigger WHERE v = 7;
	INSERT INTO public.t_default (v) VALUES (7);
	DELETE FROM public.t_default WHERE v = 7;
	RETURN 1;
END\$\$;
CREATE MATERIALIZED VIEW public.mv_trigger AS SELECT public.poke() AS x;
CREATE MATERIALIZED VIEW public.mv_matview AS SELECT public.esc('matview', 1) AS x;
CREATE FUNCTION public.et_fn() RETURNS event_trigger LANGUAGE plpgsql AS
	\$\$BEGIN PERFORM public.esc('evtrig', 0); END\$\$;
-- a trusted extension the owner may create, in its own schema, used by a table
CREATE SCHEMA ext;
CREATE EXTENSION pgcrypto WITH SCHEMA ext;
CREATE TABLE public.t_hash (h bytea DEFAULT ext.digest('x', 'sha256'), n int);
INSERT INTO public.t_hash (n) SELECT g FROM generate_series(1, 10) g;
-- FORCE ROW LEVEL SECURITY with a policy that hides every row, even from the owner
CREATE TABLE public.t_rls (v int);
INSERT INTO public.t_rls SELECT g FROM generate_series(1, 25) g;
ALTER TABLE public.t_rls ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.t_rls FORCE ROW LEVEL SECURITY;
CREATE POLICY hide ON public.t_rls USING (v < 0);
RESET ROLE;
-- what only a superuser may create: an untrusted extension and an event trigger
CREATE EXTENSION file_fdw;
CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION public.et_fn();
});
is($node->safe_psql('evil', 'SET ROLE mallory; SELECT count(*) FROM public.t_rls'), '0',
	'the RLS policy hides every row from the owner');

sub superusers {
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(rolname, ',' ORDER BY rolname), '') FROM pg_roles"
		  . " WHERE rolsuper AND rolname <> current_user");
}
is(superusers(), '', 'before: no role but the bootstrap superuser is a superuser');

my $id = RippleTest::Cluster::backup_now($node, 'evil');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup of the attacker database succeeded');
my $meta = slurp_file(substr(RippleTest::Cluster::backup_row($node, $id)->{location}, length('file://'))
	  . '.metadata.json');
like($meta, qr/"public\.t_rls": 25\b/, 'the metadata counts all 25 rows of the FORCE RLS table');
like($meta, qr/"public\.t_hash": 10\b/, 'and the 10 rows of the table using pgcrypto');
my $log_offset = -s $node->logfile;

my ($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'restore')");
is($out, 'verified', 'restore verify of the attacker database: verified (no false failure)');
is($node->safe_psql('postgres',
		"SELECT verify_status || '|' || coalesce(verify_error, '<NULL>') FROM ripple_backup.backups WHERE id = $id"),
	'verified|<NULL>', 'catalog: verified, no verify_error');
unlike($err, qr/NOTICE/, 'no notice of a failed verification');

# --- nothing escalated ------------------------------------------------------------------
for my $v (@vectors) {
	is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'v_$v'"),
		'f', "$v: the attacker's role v_$v is not a superuser");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'v_$v'"),
		'0', "$v: no settings were attached to v_$v");
	is($node->safe_psql('postgres', "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = 'v_$v'"),
		'', "$v: no server file was read into a role comment");
	ok(!-e "$loot/$v.copy", "$v: COPY TO a server file wrote nothing");
	ok(!-e "$loot/$v.read", "$v: pg_read_file exfiltrated nothing");
}
is(superusers(), '', 'after: still no superuser but the bootstrap one');
is($node->safe_psql('postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'postgres'"),
	$node->safe_psql('postgres', 'SELECT current_user'), 'the postgres database kept its owner');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
		  . " WHERE d.datname = 'postgres' AND s.setrole = 0"),
	'0', 'no settings were attached to the postgres database');
my $auto = slurp_file($node->data_dir . '/postgresql.auto.conf');
unlike($auto, qr/log_min_messages/, 'ALTER SYSTEM wrote nothing to postgresql.auto.conf');

# --- the restore role is locked again -------------------------------------------------------
is($node->safe_psql('postgres',
		"SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolinherit, rolcanlogin, rolpassword IS NULL"
		  . " FROM pg_authid WHERE rolname = 'ripple_backup_restore'"),
	'f|f|f|f|t|f|t', 'the restore role exists, unprivileged (INHERIT: of nothing but pg_database_owner of its scratch database), NOLOGIN, without a password');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'ripple_backup_restore'"),
	'0', 'the settings the restored code gave the restore role are reset');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
		  . " WHERE r.rolname = 'ripple_backup_restore'"), '0', 'the restore role is a member of no role');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/left out 1 event trigger/, 'the log notes the event trigger left out of the restore');
unlike($log, qr/SCRAM-SHA-256\$|PASSWORD '/, 'no password or SCRAM secret in the log (log_statement = all)');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'ripple_backup_verify_%'"),
	'0', 'the scratch database is dropped');

# --- two restore verifies at once: the second waits for the first --------------------------
my (@outs, @errs, @runs);
for my $i (0, 1) {
	($outs[$i], $errs[$i]) = ('', '');
	push @runs, IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c', "SELECT ripple_backup_verify($id, 'restore')" ],
		'>', \$outs[$i], '2>', \$errs[$i]);
}
$_->finish for @runs;
chomp @outs;
is("$outs[0],$outs[1]", 'verified,verified', 'two concurrent restore verifies: both verified (serialised)')
  or diag(join("\n", @errs));
is(superusers(), '', 'after the concurrent verifies: still no superuser but the bootstrap one');

my @left = glob($node->data_dir . '/base/pgsql_tmp/*');
is(scalar(@left), 0, 'no password file, list or count script left in base/pgsql_tmp') or diag("@left");

# --- a restore role that is not safe to use is refused, and never changed ----------------------
sub set_verify_role {
	my ($role) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.verify_role = '$role'");
	$node->reload;
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.verify_role', $role);
}
my $bootstrap = $node->safe_psql('postgres', 'SELECT current_user');
set_verify_role($bootstrap);
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'restore')");
is($out, 'failed', 'verify_role names a superuser: the verify fails');
like($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/^the restore role "\Q$bootstrap\E" \(ripple_backup.verify_role\) is a superuser/, 'verify_error says why');
is($node->safe_psql('postgres', "SELECT rolsuper AND rolcanlogin FROM pg_roles WHERE rolname = '$bootstrap'"),
	't', 'the superuser named by mistake keeps its attributes');
$node->safe_psql('postgres', 'CREATE ROLE reader NOLOGIN; GRANT pg_read_all_data TO reader');
set_verify_role('reader');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'restore')");
is($out, 'failed', 'verify_role names a member of pg_read_all_data: the verify fails');
like($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/^the restore role "reader" \(ripple_backup.verify_role\) is a member of role "pg_read_all_data"/,
	'verify_error names the membership');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ripple_backup.verify_role');
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.verify_role', 'ripple_backup_restore');

# --- a C function outside an extension fails the verify truthfully ---------------------------
$node->safe_psql('postgres', 'CREATE DATABASE cfunc');
$node->safe_psql('cfunc', q{
CREATE FUNCTION public.my_handler() RETURNS fdw_handler LANGUAGE c AS '$libdir/file_fdw', 'file_fdw_handler';
CREATE TABLE public.t (v int);
INSERT INTO public.t VALUES (1);
});
my $cid = RippleTest::Cluster::backup_now($node, 'cfunc');
is(RippleTest::Cluster::wait_backup($node, $cid), 'succeeded', 'backup with a C function succeeded');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($cid, 'restore')");
is($out, 'failed', 'a C function outside an extension: the restore verify fails');
like($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $cid"),
	qr/^restore into the scratch database .* failed: .*permission denied for language c/s,
	'verify_error gives the reason (permission denied for language c)');

# --- pg_hba.conf: scram-sha-256 for the restore role works; peer is refused with a hint -----
my $hba = slurp_file($node->data_dir . '/pg_hba.conf');
sub set_hba {
	my ($method) = @_;
	open my $fh, '>', $node->data_dir . '/pg_hba.conf' or die;
	print $fh "local all ripple_backup_restore $method\n", $hba;
	close $fh;
	$node->reload;
}
set_hba('scram-sha-256');
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, 'restore')"), 'verified',
	'pg_hba.conf asks the restore role for scram-sha-256: the per-run password works');
set_hba('peer');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'restore')");
is($out, 'failed', 'peer authentication for the restore role: the verify fails');
like($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/Peer authentication failed for user "ripple_backup_restore".*pg_hba\.conf/s,
	'verify_error says why and points at pg_hba.conf');
set_hba('trust');

# --- a verifier terminated during the restore still locks the role -----------------------------
$node->safe_psql('postgres', 'CREATE DATABASE slow OWNER mallory');
# refreshed at restore: 30 s when run by the restore role, time enough to terminate the verifier
$node->safe_psql('slow', q{SET ROLE mallory;
CREATE FUNCTION public.nap() RETURNS int LANGUAGE plpgsql AS
	$$BEGIN IF current_user = 'ripple_backup_restore' THEN PERFORM pg_catalog.pg_sleep(30); END IF; RETURN 1; END$$;
CREATE MATERIALIZED VIEW public.mv_slow AS SELECT public.nap() AS x;
});
my $slow = RippleTest::Cluster::backup_now($node, 'slow');
is(RippleTest::Cluster::wait_backup($node, $slow), 'succeeded', 'backup of a database whose restore takes 30 s');
my ($bg_out, $bg_err) = ('', '');
my $bg = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c', "SELECT ripple_backup_verify($slow, 'restore')" ],
	'>', \$bg_out, '2>', \$bg_err);
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = 'ripple_backup_restore'"
		  . " AND query LIKE '%REFRESH MATERIALIZED VIEW%'", 't', 60),
	't', 'the restore role is refreshing the slow materialized view');
is($node->safe_psql('postgres', "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'ripple_backup_restore'"),
	't', 'meanwhile the restore role may log in');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'ripple_backup verifier'");
$bg->finish;
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup verifier'", '0', 30),
	'0', 'the verifier is gone');
is($node->safe_psql('postgres',
		"SELECT rolcanlogin, rolpassword IS NULL FROM pg_authid WHERE rolname = 'ripple_backup_restore'"),
	'f|t', 'a verifier terminated mid-restore left the restore role NOLOGIN without a password');
@left = glob($node->data_dir . '/base/pgsql_tmp/pgsql_tmp_ripple_backup_restore*');
is(scalar(@left), 0, 'and no password file');
is(superusers(), '', 'at the end: still no superuser but the bootstrap one');

$node->stop;
done_testing();
