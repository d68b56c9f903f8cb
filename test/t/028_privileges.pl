# 028_privileges.pl — what a role with the README's grants may do, and the
# credentials file's permissions:
#   - ripple_backup_now(dbname) and ripple_backup_stats(id) act only on databases the
#     calling role may CONNECT to (or owns): ERROR 42501 otherwise, nothing queued;
#   - ripple_backup_stats() without an id shows the latest backup the role may see;
#   - ripple_backup_wait(id) and ripple_backup_verify(id) likewise (42501, nothing
#     verified); ripple_backup_verify() without an id picks the latest it may see;
#   - the job functions create, change and drop only jobs of such databases;
#   - the progress view needs EXECUTE on ripple_backup_progress() (the README grants it);
#   - an S3 credentials file readable by group or others is refused: the backup fails
#     with a clear error and nothing is stored; at mode 0600 the same file works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('privileges', s3 => $s3, prefix => 'priv');
RippleTest::Cluster::create_app_db($node, 'app', 100);
RippleTest::Cluster::create_app_db($node, 'secret', 100);
$node->safe_psql('secret', 'CREATE TABLE hidden_table (x int)');
$node->safe_psql('postgres', q{
	CREATE ROLE backup_operator LOGIN;
	CREATE ROLE db_owner LOGIN;
	CREATE DATABASE owned OWNER db_owner;
	REVOKE CONNECT ON DATABASE secret FROM PUBLIC;
	REVOKE CONNECT ON DATABASE owned FROM PUBLIC;
	REVOKE CONNECT ON DATABASE owned FROM db_owner;
});
# the README's grants, to both roles
my $grants = q{
	GRANT EXECUTE ON FUNCTION ripple_backup_now(name, text, boolean, interval),
	                          ripple_backup_wait(bigint, interval),
	                          ripple_backup_stats(bigint, name),
	                          ripple_backup_progress() TO %1$s;
	GRANT USAGE ON SCHEMA ripple_backup TO %1$s;
	GRANT SELECT ON ALL TABLES IN SCHEMA ripple_backup TO %1$s;
};
for my $r (qw(backup_operator db_owner)) {
	(my $g = $grants) =~ s/%1\$s/$r/g;
	$node->safe_psql('postgres', $g);
}

sub as_role {
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "SET ROLE $role; $sql",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $out, $err);
}

# --- ripple_backup_now of a database the role may not connect to ---------------------
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups');
my ($ret, $out, $err) = as_role('backup_operator', "SELECT ripple_backup_now('secret')");
isnt($ret, 0, 'backup_operator cannot back up a database it may not connect to');
like($err, qr/ERROR:\s+42501: permission denied for database "secret"/,
	'... ERROR 42501, permission denied for database "secret"');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups'), $before,
	'... and nothing was queued');

($ret, $out, $err) = as_role('backup_operator', "SELECT ripple_backup_now('app')");
is($ret, 0, 'backup_operator may back up a database it may connect to') or diag $err;
my $app_id = $out;
is(RippleTest::Cluster::wait_backup($node, $app_id), 'succeeded', '... and that backup succeeds');

($ret, $out, $err) = as_role('db_owner', "SELECT ripple_backup_now('owned')");
is($ret, 0, 'the owner of a database may back it up, CONNECT revoked or not') or diag $err;
is(RippleTest::Cluster::wait_backup($node, $out), 'succeeded', '... and that backup succeeds');

# --- ripple_backup_stats of a backup of such a database ---------------------------------
my $secret_id = RippleTest::Cluster::backup_now($node, 'secret');
is(RippleTest::Cluster::wait_backup($node, $secret_id), 'succeeded', 'a superuser backs up "secret"');
($ret, $out, $err) = as_role('backup_operator', "SELECT * FROM ripple_backup_stats($secret_id)");
isnt($ret, 0, 'backup_operator cannot read the table list of a backup of "secret"');
like($err, qr/ERROR:\s+42501: permission denied for database "secret"/, '... ERROR 42501');
unlike($out, qr/accounts|Orders|hidden_table/, '... and sees no table name');

($ret, $out, $err) = as_role('backup_operator', "SELECT count(*) FROM ripple_backup_stats($app_id)");
is($ret, 0, 'backup_operator reads the table list of its own database') or diag $err;
is($out, '3', '... all three tables');

($ret, $out, $err) = as_role('backup_operator',
	"SELECT string_agg(table_name, ',' ORDER BY table_name) FROM ripple_backup_stats()");
is($ret, 0, 'ripple_backup_stats() without an id works for backup_operator') or diag $err;
is($out, 'Orders,accounts,empty_one',
	'... and shows the latest backup it may see ("app"), not the newer one of "secret"');

($ret, $out, $err) = as_role('backup_operator', 'SELECT count(*) FROM ripple_backup.progress');
is($ret, 0, 'the progress view works with the README grants') or diag $err;

# a role without the progress grant cannot read it
$node->safe_psql('postgres', q{
	CREATE ROLE nobody_special;
	GRANT USAGE ON SCHEMA ripple_backup TO nobody_special;
	GRANT SELECT ON ALL TABLES IN SCHEMA ripple_backup TO nobody_special;
});
($ret, $out, $err) = as_role('nobody_special', 'SELECT count(*) FROM ripple_backup.progress');
isnt($ret, 0, 'without EXECUTE on ripple_backup_progress() the progress view is refused');
like($err, qr/permission denied for function ripple_backup_progress/, '... permission denied');

# --- ripple_backup_wait and ripple_backup_verify of a backup of such a database ----------
$node->safe_psql('postgres',
	'GRANT EXECUTE ON FUNCTION ripple_backup_verify(bigint, text, interval, boolean) TO backup_operator');
($ret, $out, $err) = as_role('backup_operator', "SELECT ripple_backup_wait($secret_id)");
isnt($ret, 0, 'backup_operator cannot wait on (and so learn the outcome of) a backup of "secret"');
like($err, qr/ERROR:\s+42501: permission denied for database "secret"/, '... ERROR 42501');
($ret, $out, $err) = as_role('backup_operator', "SELECT ripple_backup_wait($app_id)");
is($out, 'succeeded', '... but waits on a backup of "app"') or diag $err;
my $verified_before = $node->safe_psql('postgres',
	"SELECT coalesce(verified_at::text, '-') FROM ripple_backup.backups WHERE id = $secret_id");
($ret, $out, $err) = as_role('backup_operator', "SELECT ripple_backup_verify($secret_id, 'archive')");
isnt($ret, 0, 'backup_operator cannot verify a backup of "secret"');
like($err, qr/ERROR:\s+42501: permission denied for database "secret"/, '... ERROR 42501');
is($node->safe_psql('postgres',
	"SELECT coalesce(verified_at::text, '-') FROM ripple_backup.backups WHERE id = $secret_id"),
	$verified_before, '... and no verification ran');
($ret, $out, $err) = as_role('backup_operator', 'SELECT ripple_backup_verify()');
is($out, 'verified', 'ripple_backup_verify() without an id verifies the latest backup it may see')
  or diag $err;
is($node->safe_psql('postgres',
	"SELECT coalesce(verified_at::text, '-') FROM ripple_backup.backups WHERE id = $secret_id"),
	$verified_before, '... not the newer one of "secret"');

# --- jobs of a database the role may not connect to --------------------------------------
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON FUNCTION ripple_backup_schedule(text, text, name, text, text),
	                          ripple_backup_alter_job(text, text, text, boolean, name, text),
	                          ripple_backup_unschedule(text) TO backup_operator;
	SELECT ripple_backup_schedule('secret-nightly', '0 3 * * *', 'secret');
});
my @job_attempts = (
	[ "SELECT ripple_backup_schedule('op-secret', '0 3 * * *', 'secret')", 'create a job of "secret"' ],
	[ "SELECT ripple_backup_alter_job('secret-nightly', active => false)", 'change the job of "secret"' ],
	[ "SELECT ripple_backup_schedule('secret-nightly', '0 3 * * *', 'app')", 'replace the job of "secret" by one of "app"' ],
	[ "SELECT ripple_backup_alter_job('secret-nightly', dbname => 'app')", 'move the job of "secret" to "app"' ],
	[ "SELECT ripple_backup_unschedule('secret-nightly')", 'drop the job of "secret"' ],
);
for my $a (@job_attempts) {
	($ret, $out, $err) = as_role('backup_operator', $a->[0]);
	isnt($ret, 0, "backup_operator cannot $a->[1]");
	like($err, qr/ERROR:\s+42501: permission denied for database "secret"/, '... ERROR 42501');
}
is($node->safe_psql('postgres',
	"SELECT dbname || ' ' || active FROM ripple_backup.jobs WHERE job_name = 'secret-nightly'"),
	'secret true', 'the job of "secret" is unchanged');
is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.jobs WHERE job_name = 'op-secret'"),
	'0', 'no job of "secret" was created');
($ret, $out, $err) = as_role('backup_operator',
	"SELECT ripple_backup_schedule('op-app', '0 3 * * *', 'app') > 0; SELECT ripple_backup_unschedule('op-app')");
is($ret, 0, 'backup_operator creates and drops a job of "app"') or diag $err;

# --- a credentials file readable by others is refused ------------------------------------
my $cred = $node->basedir . '/aws_credentials';
chmod 0644, $cred;
my $log_offset = -s $node->logfile;
my $bad = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $bad), 'failed',
	'a backup with a credentials file of mode 0644 fails');
my $row = RippleTest::Cluster::backup_row($node, $bad);
like($row->{error}, qr/credentials file "\Q$cred\E" has group or world access \(mode 0644\)/,
	'its error names the file and its mode');
is(scalar(my @k = grep { /-$bad\.dump/ } $s3->list_keys('priv/')), 0, 'nothing was stored');

chmod 0640, $cred;
$bad = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $bad), 'failed', 'mode 0640 (group-readable) fails too');

chmod 0600, $cred;
my $good = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $good), 'succeeded', 'at mode 0600 the same file works');

$node->stop;
done_testing();
