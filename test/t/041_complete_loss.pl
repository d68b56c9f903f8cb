# 041_complete_loss.pl — the "complete loss of the database server" procedure of
# docs/DISASTER_RECOVERY_RUNBOOK.md, run as written: a backup in S3 (taken by
# src/core's pipeline, build/tools/backup_run), the server stopped and its data
# directory deleted, then with ripple-backup alone and a config file: list, verify
# --archive, a new cluster, restore --create --jobs 2; the row counts of every table
# equal those before the loss, and the time taken is reported (the measured RTO).
use strict;
use warnings;
use File::Path qw(rmtree);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $backup_run = "$ENV{RIPPLE_SRC}/build/tools/backup_run";
my $etc = PostgreSQL::Test::Utils::tempdir('etc');
my $s3 = RippleTest::S3Server->new(bucket => 'prod-backups');

# --- the production server, before the disaster -------------------------------------
my $prod = PostgreSQL::Test::Cluster->new('prod');
$prod->init;
$prod->start;
RippleTest::Cluster::create_app_db($prod, 'app', 20000);
$prod->command_ok([ 'pgbench', '-i', '-s', '2', '-q', 'app' ], 'pgbench -i -s 2');
$prod->safe_psql('app', q{CREATE TABLE public."Audit Log" AS SELECT g AS id FROM generate_series(1, 321) g});
my @tables = split /\n/, $prod->safe_psql('app', q{
	SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1});
my %before = map { ($_ => $prod->safe_psql('app', "SELECT count(*) FROM $_")) } @tables;
is(scalar(@tables), 8, 'eight tables before the loss');
my $sysid = $prod->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

# the nightly backup (what the extension's worker does, through the same pipeline)
{
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, $s3->env);
	IPC::Run::run([ $backup_run, '--dest', 's3://prod-backups/postgres', '--dbname', 'app',
		'--host', $prod->host, '--port', $prod->port, '--id', '41', '--sysid', $sysid,
		'--s3-endpoint', $s3->endpoint, '--s3-uri-style', 'path' ], '<', \undef, '>', \$out, '2>', \$err);
	is($? >> 8, 0, 'backup of app stored in S3') or diag $err;
}

# --- the disaster -----------------------------------------------------------------
$prod->stop('immediate');
rmtree($prod->data_dir);
ok(!-d $prod->data_dir, 'the data directory is gone');

# --- the procedure: step 1, tell ripple-backup where the backups are ---------------
my $cred = "$etc/ripple-backup.credentials";
open my $fh, '>', $cred or die;
print $fh "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\n"
  . "aws_secret_access_key = $RippleTest::S3Server::SECRET_KEY\n";
close $fh;
chmod 0600, $cred;
my $conf = "$etc/ripple-backup.conf";
open $fh, '>', $conf or die;
print $fh "destination = 's3://prod-backups/postgres'\n"
  . "s3_endpoint = " . $s3->endpoint . "\n"
  . "s3_uri_style = path\n"
  . "s3_region = us-east-1\n"
  . "s3_credentials_file = $cred\n";
close $fh;

my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE)$)/ } keys %env;
$env{RIPPLE_BACKUP_CONFIG} = $conf;
$env{HOME} = $etc;

sub cli {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %env;
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# step 2: find the latest backup and prove it before relying on it
my ($rc, $out, $err) = cli('list', '--db', 'app');
is($rc, 0, 'runbook: ripple-backup list --db app') or diag $err;
like($out, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+app\s.*\s41\s+0000000000000001\s*$/m, 'runbook: the backup is listed');
($rc, $out, $err) = cli('info', 'latest', '--db', 'app', '--json');
my $info = decode_json($out);
is($info->{backup_id}, 41, 'runbook: latest is backup 41');
($rc, $out, $err) = cli('verify', 'latest', '--db', 'app', '--archive');
is($rc, 0, 'runbook: ripple-backup verify latest --db app --archive') or diag $err;

# step 3: a new, empty server
my $new = PostgreSQL::Test::Cluster->new('replacement');
$new->init;
$new->start;
isnt($new->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'), $sysid,
	'the replacement is a different system');

# step 4: restore with the CLI alone
($rc, $out, $err) = cli('restore', 'latest', '--db', 'app', '--dbname', 'app', '--create', '--jobs', '2',
	'--host', $new->host, '--port', $new->port);
is($rc, 0, 'runbook: ripple-backup restore latest --db app --dbname app --create --jobs 2') or diag $err;
like($out, qr/^restored backup 41 of database "app" .* in ([\d.]+ s|\d+ min \d+ s)/m, 'the restore reports its time');
like($err, qr/row counts match the backup for all 8 tables/, 'ripple-backup compared every table');
my ($secs) = $out =~ /in ([\d.]+) s \(/;
diag("complete-loss restore of " . $info->{size_bytes} . " stored bytes took " . ($secs // '?') . " s");

# step 5: the checklist: every table, every row
my %after = map { ($_ => $new->safe_psql('app', "SELECT count(*) FROM $_")) } @tables;
is_deeply(\%after, \%before, 'every table has the rows it had before the loss');

$new->stop;
done_testing();
