# 044_verify_s3.pl — verification against the S3 test server: a new backup is
# verified at checksum level automatically (ripple_backup.verify_after_backup, on by
# default), the archive and restore levels pass, an object replaced by one with a
# single changed byte fails the checksum, and a deleted metadata object fails clearly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $work = PostgreSQL::Test::Utils::tempdir('work');
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('s3verify', s3 => $s3, prefix => 'proved');
RippleTest::Cluster::create_app_db($node, 'app', 2000);

my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup to S3 succeeded');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT verify_status || '/' || verify_level FROM ripple_backup.backups WHERE id = $id",
		'verified/checksum', 60),
	'verified/checksum', 'verified at checksum level automatically');
my $row = RippleTest::Cluster::backup_row($node, $id);
my $key = 'proved/' . $row->{object_key};

is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, 'archive')"), 'verified', 'archive level from S3');
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, 'restore')"), 'verified', 'restore level from S3');
is($node->safe_psql('postgres', "SELECT restore_seconds > 0 FROM ripple_backup.backups WHERE id = $id"), 't',
	'restore_seconds recorded');

# replace the object with a copy that differs in one byte
ok($s3->fetch_object($key, "$work/obj"), 'object read back with awscli');
open my $fh, '+<:raw', "$work/obj" or die;
seek $fh, 100, 0;
read $fh, my $b, 1;
seek $fh, 100, 0;
print $fh chr(ord($b) ^ 0x80);
close $fh;
my ($rc) = $s3->aws('s3', 'cp', "$work/obj", "s3://backups/$key");
is($rc, 0, 'changed object uploaded over the original');
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id)"), 'failed', 'checksum fails');
like($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr{^checksum mismatch for s3://backups/\Q$key\E: expected $row->{sha256}, found [0-9a-f]{64}$},
	'verify_error names the S3 object and both checksums');

($rc) = $s3->aws('s3', 'rm', "s3://backups/$key.metadata.json");
is($rc, 0, 'metadata object deleted');
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id)"), 'failed', 'missing metadata fails');
is($node->safe_psql('postgres', "SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qq{metadata object "s3://backups/$key.metadata.json" is missing}, 'verify_error: metadata object is missing');

$node->stop;
$s3->stop;
done_testing();
