# 100_runbook.pl — docs/DISASTER_RECOVERY_RUNBOOK.md run as written: for each
# scenario, its `sh runbook:NAME` / `sql runbook:NAME` blocks are extracted in order
# (RippleTest::Runbook) and run in one shell session against a real cluster with
# the extension and the S3 test server, with only the runbook's documented
# variables replaced (bucket, endpoint, keys, host and port, the /etc and /srv
# paths, the picked backup ids, `runuser -u postgres --`).  Between the blocks the
# test makes the trouble the scenario is about (wrong credentials, deleted rows and
# a dropped table, a damaged backup object, a damaged heap page, a bad migration,
# the loss of the server) and checks the outcome: exact row counts, the database's
# owner, ACL and settings, exit codes.  The time each scenario's commands took is
# printed (the runbook's table of measured times).
use strict;
use warnings;
use File::Path qw(rmtree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::Runbook;
use RippleTest::S3Server;
use Test::More;

my $s3 = RippleTest::S3Server->new(bucket => 'acme-backups');
my $prod = RippleTest::Cluster->new_node('prod', s3 => $s3, prefix => 'postgres',
	conf => "ripple_backup.verify_after_backup = off\n");
my $etc = PostgreSQL::Test::Utils::tempdir('etc');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $home = PostgreSQL::Test::Utils::tempdir('home');
my %measured;

# --- the production data ------------------------------------------------------------
$prod->safe_psql('postgres', q{
	CREATE ROLE app_owner NOLOGIN;
	CREATE ROLE reader NOLOGIN;
	CREATE DATABASE app OWNER app_owner;
	REVOKE CONNECT, TEMPORARY ON DATABASE app FROM PUBLIC;
	GRANT CONNECT ON DATABASE app TO reader;
	ALTER DATABASE app SET work_mem = '8MB';
	CREATE TABLE public.things AS SELECT g AS id FROM generate_series(1, 1234) g;
});
$prod->safe_psql('app', q{
	SET ROLE app_owner;
	CREATE TABLE public.orders (id int PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), note text);
	INSERT INTO public.orders (id, note) SELECT g, 'order ' || g FROM generate_series(1, 3000) g;
	CREATE TABLE public.coupons (code text PRIMARY KEY, percent int);
	INSERT INTO public.coupons SELECT 'C' || g, g % 30 FROM generate_series(1, 50) g;
	CREATE TABLE public.customers AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 1000) g;
});

sub q_prod { $prod->safe_psql(@_) }

sub backup_ok {
	my ($node, $db) = @_;
	my $id = RippleTest::Cluster::backup_now($node, $db);
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', "backup $id of $db succeeded");
	return $id;
}
my $first = backup_ok($prod, 'app');

# --- the shell session's environment: only what the runbook documents --------------
my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE|USER)$)/ } keys %env;
$env{HOME} = $home;
$env{RIPPLE_BACKUP_CONFIG} = "$etc/ripple-backup.conf";
$env{PGHOST} = $prod->host;
$env{PGPORT} = $prod->port;
my @subst = (
	[ 'https://s3.eu-central-1.amazonaws.com' => $s3->endpoint ],
	[ 'AKIAIOSFODNN7EXAMPLE' => $RippleTest::S3Server::ACCESS_KEY ],
	[ 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' => $RippleTest::S3Server::SECRET_KEY ],
	[ '/etc/ripple-backup.conf' => "$etc/ripple-backup.conf" ],
	[ '/etc/ripple-backup.credentials' => "$etc/ripple-backup.credentials" ],
	[ '/srv/restore' => "$work/restore" ],
);

sub runbook {
	my ($scenario, %ids) = @_;
	my @s = @subst;
	push @s, [ qr/\b$_\b/ => $ids{$_} ] for keys %ids;
	return RippleTest::Runbook->new(scenario => $scenario, env => { %env }, cwd => $work, subst => \@s);
}

# Runs the next block and checks that it exits 0; returns its result.
sub step_ok {
	my ($rb, $name) = @_;
	my $r = $rb->run_next;
	is($r->{rc}, 0, "$rb->{scenario}: $name (runbook line $r->{line})")
	  or diag "stdout:\n$r->{out}\nstderr:\n$r->{err}\nscript:\n$r->{text}";
	return $r;
}

sub done_scenario {
	my ($rb, $label) = @_;
	is($rb->remaining, 0, "$rb->{scenario}: every block of the scenario was run");
	$measured{$label} = $rb->seconds;
	diag(sprintf("runbook scenario %s: the commands took %.1f s", $rb->{scenario}, $rb->seconds));
}

sub latest_ok_id {
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT max(id) FROM ripple_backup.backups WHERE dbname = '$db' AND status = 'succeeded'");
}

# --- Before anything goes wrong ---------------------------------------------------------
{
	my $rb = runbook('setup');
	my $r = step_ok($rb, 'configuration, credentials, list, globals');
	like($r->{out}, qr/^\S+ \S+\s+app\s.*\s$first\s/m, 'setup: ripple-backup list shows the backup');
	my @st = stat "$etc/ripple-backup.credentials";
	is(sprintf('%o', $st[2] & 07777), '600', 'setup: the credentials file is mode 600');
	is((getpwuid($st[4]))[0], 'postgres', 'setup: and owned by postgres');
	is(sprintf('%o', (stat "$etc/ripple-backup.conf")[2] & 07777), '644', 'setup: the config file is readable by all');
	like(slurp_file("$work/globals.sql"), qr/CREATE ROLE app_owner/, 'setup: globals.sql holds the roles');
	done_scenario($rb, 'setup');
}

# --- 1. connection failures -----------------------------------------------------------
{
	my $cred = $prod->basedir . '/aws_credentials';
	my $good = slurp_file($cred);
	(my $bad = $good) =~ s/(aws_secret_access_key = ).*/${1}wrong/;
	open my $fh, '>', $cred or die;
	print $fh $bad;
	close $fh;
	my $failed = RippleTest::Cluster::backup_now($prod, 'app');
	is(RippleTest::Cluster::wait_backup($prod, $failed), 'failed', 'a backup with a wrong secret fails');

	my $rb = runbook('connection-failures');
	my $r = step_ok($rb, 'what failed and the RPO');
	like($r->{out}, qr/^\s*$failed \| app\s+\| failed .*(SignatureDoesNotMatch|403)/m, 'the failed backup and its S3 error are shown');
	$r = step_ok($rb, 'ripple_backup_check()');
	like($r->{out}, qr/^ auth\s+\| f\s+\| .*(SignatureDoesNotMatch|403)/m, 'the check names the auth step, with the S3 error');
	like($r->{out}, qr/^ connect\s+\| t /m, 'the endpoint answered');
	$r = step_ok($rb, 'ripple-backup list -v: the operator\'s own credentials work');

	open $fh, '>', $cred or die;
	print $fh $good;
	close $fh;
	chmod 0600, $cred;
	$prod->reload;
	$r = step_ok($rb, 'check again, a backup now, verify latest');
	unlike($r->{out}, qr/\| f \|/, 'after the fix every step of the check is ok');
	my $new = latest_ok_id($prod, 'app');
	cmp_ok($new, '>', $failed, 'a new backup succeeded after the failed one');
	done_scenario($rb, '1. connection failures');
}

# --- 2. accidental deletion -------------------------------------------------------------
{
	my $id = latest_ok_id($prod, 'app');
	q_prod('app', q{
		DELETE FROM public.orders WHERE id % 3 = 0;
		INSERT INTO public.orders (id, note) SELECT g, 'after the backup' FROM generate_series(3001, 3010) g;
		UPDATE public.orders SET note = 'changed since' WHERE id = 1;
		DROP TABLE public.coupons;
	});
	is(q_prod('app', 'SELECT count(*) FROM public.orders'), '2010', 'the mistake: 1000 rows deleted, 10 new');

	my $rb = runbook('accidental-deletion', 1234 => $id);
	my $r = step_ok($rb, 'list and info');
	like($r->{out}, qr/orders/, 'info lists the tables');
	$r = step_ok($rb, 'restore into app_recover');
	like($r->{err}, qr/row counts match the backup for all 3 tables/, 'every table compared');
	is(q_prod('app_recover', 'SELECT count(*) FROM public.orders'), '3000', 'app_recover has the backup\'s orders');
	$r = step_ok($rb, 'mkdir, fetch -o, pg_restore -t orders');
	is(q_prod('app_orders', 'SELECT count(*) FROM public.orders'), '3000', 'the single table restored');
	is(q_prod('app_orders', q{SELECT count(*) FROM pg_tables WHERE schemaname = 'public'}), '1', 'and only that table');
	$r = step_ok($rb, 'the dropped table back');
	is(q_prod('app', 'SELECT count(*) FROM public.coupons'), '50', 'coupons is back with its 50 rows');
	$r = step_ok($rb, 'the deleted rows back through a staging table');
	is(q_prod('app', 'SELECT count(*) FROM public.orders'), '3010', 'orders: the backup\'s 3000 rows plus the 10 new');
	is(q_prod('app', 'SELECT note FROM public.orders WHERE id = 1'), 'changed since', 'a row changed since the backup is kept');
	$r = step_ok($rb, 'clean-up');
	is(q_prod('postgres', q{SELECT count(*) FROM pg_database WHERE datname IN ('app_recover', 'app_orders')}), '0',
		'the side databases are dropped');
	ok(!-e "$work/restore", 'the work directory is removed');
	done_scenario($rb, '2. accidental deletion');
}

# --- 3a. a damaged backup object ------------------------------------------------------------
{
	my $good = backup_ok($prod, 'app');
	my $bad = backup_ok($prod, 'app');
	my $loc = RippleTest::Cluster::backup_row($prod, $bad)->{location};
	my ($key) = $loc =~ m{^s3://acme-backups/(.+)$} or die "location $loc";
	my $f = "$work/object";
	ok($s3->fetch_object($key, $f), 'the object of the newest backup fetched');
	my $data = slurp_file($f);
	substr($data, int(length($data) / 2), 1) = chr(ord(substr($data, int(length($data) / 2), 1)) ^ 0x55);
	open my $fh, '>:raw', $f or die;
	print $fh $data;
	close $fh;
	my ($rc) = $s3->aws('s3', 'cp', $f, "s3://acme-backups/$key");
	is($rc, 0, 'the object of the newest backup damaged (one byte)');
	unlink $f;

	my $rb = runbook('damaged-backup', 1234 => $bad, 1233 => $good);
	my $r = step_ok($rb, 'verify the newest (damaged) and the one before');
	like($r->{out}, qr/^backup $bad: exit 4 /m, 'the damaged backup fails its verification with exit 4');
	like($r->{err}, qr/mismatch/, 'and says the object does not match');
	$r = step_ok($rb, 'a fresh backup, verified');
	cmp_ok(latest_ok_id($prod, 'app'), '>', $bad, 'a fresh backup exists');
	done_scenario($rb, '3a. damaged backup');
}

# --- 3b. a damaged table ----------------------------------------------------------------------
{
	my $id = latest_ok_id($prod, 'app');
	my $rows = q_prod('app', 'SELECT count(*) FROM public.orders');
	my $path = $prod->data_dir . '/' . q_prod('app', q{SELECT pg_relation_filepath('public.orders')});
	q_prod('postgres', 'CHECKPOINT');
	$prod->stop;
	# the first tuple of the first page gets an xmin from the future
	open my $fh, '+<:raw', $path or die "open $path: $!";
	my $page;
	read($fh, $page, 8192) == 8192 or die;
	my $lp_off = unpack('V', substr($page, 24, 4)) & 0x7FFF;
	seek($fh, $lp_off, 0);
	print $fh pack('V', 0xFFFFFF00);
	close $fh;
	$prod->start;

	my $rb = runbook('damaged-table', 1234 => $id);
	my $r = step_ok($rb, 'amcheck: indexes and heap');
	like($r->{out}, qr/xmin \d+ (precedes oldest|equals or exceeds next) valid transaction ID/, 'verify_heapam reports the damaged tuple');
	like($r->{out}, qr/orders_pkey/, 'the primary key index was checked');
	$r = step_ok($rb, 'verify and restore app_clean');
	$r = step_ok($rb, 'replace the rows in one transaction, check again');
	like($r->{out}, qr/^\s+0\s*$/m, 'verify_heapam finds nothing after');
	is(q_prod('app', 'SELECT count(*) FROM public.orders'), $rows, "orders has the backup's $rows rows");
	$r = step_ok($rb, 'clean-up');
	done_scenario($rb, '3b. damaged table');
}

# --- 5. a failed migration ----------------------------------------------------------------------
my %before_loss;
{
	my $rows = q_prod('app', 'SELECT count(*) FROM public.orders');
	my $rb = runbook('failed-migration');
	my $r = step_ok($rb, 'labelled backup, wait on its id, verify, pin');
	my $id = $rb->var('ID');
	like($id, qr/^\d+$/, 'the id came from ripple_backup_now()');
	is(RippleTest::Cluster::backup_row($prod, $id)->{label}, 'before migration 42', 'that backup carries the label');
	like($r->{out}, qr/^\s*$id \| keep\s+\| pinned/m, 'retention keeps it: pinned');

	# the migration that goes wrong
	q_prod('app', 'ALTER TABLE public.orders DROP COLUMN note; DELETE FROM public.orders WHERE id > 100');
	$r = step_ok($rb, 'restore beside and swap');
	is(q_prod('app', 'SELECT count(*) FROM public.orders'), $rows, 'app has the rows from before the migration');
	is(q_prod('app', q{SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'}),
		'1', 'and the old schema');
	is(q_prod('postgres', q{SELECT datdba::regrole || ' ' || datacl::text FROM pg_database WHERE datname = 'app'}),
		'app_owner {app_owner=CTc/app_owner,reader=c/app_owner}', 'the swapped-in app has the owner and ACL of the old');
	$r = step_ok($rb, 'drop the failed copy, unpin');
	is(q_prod('postgres', "SELECT pinned FROM ripple_backup.backups WHERE id = $id"), 'f', 'unpinned');
	done_scenario($rb, '5. failed migration');
}

# --- 4. complete loss of the database server -------------------------------------------------------
{
	backup_ok($prod, 'app');
	my $catalog = backup_ok($prod, 'postgres');
	for my $t (qw(public.orders public.coupons public.customers)) {
		$before_loss{$t} = q_prod('app', "SELECT count(*) FROM $t");
	}
	my $acl = q_prod('postgres', q{SELECT datdba::regrole || ' ' || datacl::text FROM pg_database WHERE datname = 'app'});
	my $sysid = q_prod('postgres', 'SELECT system_identifier FROM pg_control_system()');

	$prod->stop('immediate');
	rmtree($prod->data_dir);
	ok(!-d $prod->data_dir, 'the data directory is gone');

	# step 3: the new server, the extension installed but not preloaded (pg_createcluster)
	my $new = PostgreSQL::Test::Cluster->new('replacement');
	$new->init;
	$new->start;
	isnt($new->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'), $sysid,
		'the replacement is a different system');

	my $rb = runbook('complete-loss');
	$rb->set_env(PGHOST => $new->host, PGPORT => $new->port);
	my $r = step_ok($rb, 'list, info, verify --archive');
	$r = step_ok($rb, 'roles from globals.sql');
	is($new->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname IN ('app_owner', 'reader')}), '2',
		'the roles are back');
	$r = step_ok($rb, 'restore app --create');
	like($r->{out}, qr/^restored backup \d+ of database "app" .* in /m, 'the restore reports its time');
	for my $t (sort keys %before_loss) {
		is($new->safe_psql('app', "SELECT count(*) FROM $t"), $before_loss{$t}, "$t has the rows it had before the loss");
	}
	is($new->safe_psql('postgres', q{SELECT datdba::regrole || ' ' || datacl::text FROM pg_database WHERE datname = 'app'}),
		$acl, 'app has its owner and ACL (no CONNECT for PUBLIC)');
	is($new->safe_psql('postgres', q{SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s
		JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'app' AND s.setrole = 0}),
		'work_mem=8MB', 'and its ALTER DATABASE setting');
	$r = step_ok($rb, 'restore the catalog database into postgres, the extension is there');
	like($r->{out}, qr/^ripple_backup\|0\.1\.0$/m, 'the dump created the extension');
	like($r->{err}, qr/tables? of extension ripple_backup .* restored but not compared/, 'its own tables are not compared, and it says so');
	is($new->safe_psql('postgres', 'SELECT count(*) FROM public.things'), '1234', 'the catalog database\'s own table is back');
	is($new->safe_psql('postgres', 'SELECT max(id) FROM ripple_backup.backups'), $catalog,
		'the backup history is back, up to the catalog backup itself');
	$r = step_ok($rb, 'the settings for the extension');
	$new->restart;
	$r = step_ok($rb, 'check, the first backup after the restore, verify latest');
	unlike($r->{out}, qr/\| f \|/, 'every step of the check is ok on the new server');
	my $first_new = latest_ok_id($new, 'app');
	is($new->safe_psql('postgres', "SELECT system_identifier::text FROM ripple_backup.backups WHERE id = $first_new"),
		$new->safe_psql('postgres', 'SELECT system_identifier::text FROM pg_control_system()'),
		'the first backup after the restore is the new system\'s');
	is($new->safe_psql('postgres', "SELECT status || ' ' || coalesce(error, '') FROM ripple_backup.backups WHERE id = $catalog"),
		'failed interrupted by server restart', 'the catalog backup\'s own row says it was interrupted, as the runbook says');
	done_scenario($rb, '4. complete loss');
	$new->stop;
}

diag(sprintf("measured: %s", join('; ', map { sprintf('%s %.1f s', $_, $measured{$_}) } sort keys %measured)));
done_testing();
