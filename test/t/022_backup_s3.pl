# 022_backup_s3.pl — end to end to the S3 test server (SigV4 checked): the object and
# its metadata read back with awscli, checksum and size as the catalog says, restored
# with pg_restore into a database whose per-table counts equal the metadata's; a
# reload (SIGHUP) switches the destination; refused credentials fail cleanly.
use strict;
use warnings;
use Digest::SHA;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $work = PostgreSQL::Test::Utils::tempdir('work');
my $dir = PostgreSQL::Test::Utils::tempdir('switched');
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('s3', s3 => $s3, prefix => 'nightly');
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 20000);
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

# --- a backup to S3 -------------------------------------------------------------------
my $log_offset = -s $node->logfile;
my $id = RippleTest::Cluster::backup_now($node, 'app', 's3 test');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup to S3 succeeded');
my $row = RippleTest::Cluster::backup_row($node, $id);
is($row->{error}, undef, 'no error');
my $incarnation = $node->safe_psql('postgres', 'SELECT incarnation_id FROM ripple_backup.incarnation');
like($row->{location}, qr{^s3://backups/nightly/\Q$sysid\E/\Q$incarnation\E/app/\d{8}T\d{6}Z-$id\.dump\.zst$},
	'location: s3://bucket/prefix/<sysid>/<incarnation>/<db>/<timestamp>-<id>.dump.zst');
my $key = substr($row->{location}, length('s3://backups/'));

my @keys = grep { !/\.verified$|\.verify\.json$/ } $s3->list_keys('nightly/');    # the verifier's marker and record may come
is_deeply([ sort @keys ], [ sort($key, "$key.metadata.json") ],
	'the bucket holds the object and its metadata, nothing else');

my ($rc, $out, $err) = $s3->aws('s3api', 'head-object', '--bucket', 'backups', '--key', $key);
is($rc, 0, 'awscli head-object finds the object') or diag($err);
like($out, qr/"ContentLength":\s*$row->{size_bytes}\b/, 'its length is size_bytes');

ok($s3->fetch_object($key, "$work/app.dump.zst", 'backups'), 'awscli reads the object back');
is(-s "$work/app.dump.zst", $row->{size_bytes}, 'the read-back object has size_bytes bytes');
is(Digest::SHA->new(256)->addfile("$work/app.dump.zst")->hexdigest, $row->{sha256},
	'the read-back object has the catalog\'s SHA-256');

ok($s3->fetch_object("$key.metadata.json", "$work/meta.json", 'backups'), 'awscli reads the metadata back');
my $meta = decode_json(slurp_file("$work/meta.json"));
is($meta->{backup_id}, $id, 'metadata: backup_id');
is($meta->{sha256}, $row->{sha256}, 'metadata: sha256');
is($meta->{size_bytes}, $row->{size_bytes}, 'metadata: size_bytes');
is($meta->{label}, 's3 test', 'metadata: label');
is("$meta->{system_identifier}", $sysid, 'metadata: system_identifier');
is_deeply($meta->{table_counts}, $expected, 'metadata: table_counts');

system_or_bail('zstd', '-q', '-d', "$work/app.dump.zst", '-o', "$work/app.dump");
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'pg_restore', '--no-owner', '-j', '2', '-d', $node->connstr('restored'), "$work/app.dump" ],
	'pg_restore -j 2 of the object read back from S3');
is_deeply(RippleTest::Cluster::count_rows($node, 'restored', $meta->{table_counts}), $expected,
	'the restored tables have the metadata\'s row counts');

my $log = slurp_file($node->logfile, $log_offset);
like($log, qr{ripple_backup: backup $id of database "app" succeeded: .* to s3://backups/nightly/},
	'log: succeeded to the S3 location');
unlike($log, qr/aws_secret_access_key|$RippleTest::S3Server::SECRET_KEY:/, 'log: no secret');

# --- SIGHUP switches the destination ----------------------------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.destination = 'file://$dir'\n");
$node->reload;
is(RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.destination', "file://$dir"),
	"file://$dir", 'the destination is a directory after the reload');
my $f = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $f), 'succeeded', 'the next backup succeeded');
like(RippleTest::Cluster::backup_row($node, $f)->{location}, qr{^file://\Q$dir\E/}, '... in the new directory');

$node->append_conf('postgresql.conf', "ripple_backup.destination = 's3://backups/switched'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.destination', 's3://backups/switched');
my $s = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $s), 'succeeded', 'and back to S3 under another prefix');
my $srow = RippleTest::Cluster::backup_row($node, $s);
like($srow->{location}, qr{^s3://backups/switched/}, '... at the new prefix');
is(scalar(my @k = grep { !/\.verified$|\.verify\.json$/ } $s3->list_keys('switched/')), 2, '... object and metadata there');

# --- refused credentials: failed, with the reason, nothing left behind -------------------
my $cred = $node->basedir . '/aws_credentials_bad';
open my $fh, '>', $cred or die;
print $fh "[default]\naws_access_key_id = S3RVER\naws_secret_access_key = wrong-secret\n";
close $fh;
chmod 0600, $cred;
$node->append_conf('postgresql.conf',
	"ripple_backup.destination = 's3://backups/refused'\nripple_backup.s3_credentials_file = '$cred'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.destination', 's3://backups/refused');
my $bad = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $bad), 'failed', 'a backup with a wrong secret fails');
my $badrow = RippleTest::Cluster::backup_row($node, $bad);
like($badrow->{error}, qr/403|SignatureDoesNotMatch|denied|refused/i, 'its error says the server refused');
unlike($badrow->{error}, qr/wrong-secret/, 'the error does not contain the secret');
is($badrow->{sha256}, undef, 'a failed backup has no checksum');
is(scalar(my @none = $s3->list_keys('refused/')), 0, 'nothing stored under the prefix');

$node->stop;
$s3->stop;
done_testing();
