# 008_s3_sse.pl — server-side encryption end to end: backups with
# ripple_backup.s3_sse = 'aws:kms' (and a KMS key id), then 'AES256', to the S3
# test server, which checks every request's SigV4 signature and records every
# request it receives (s3rver keeps no SSE header: HeadObject cannot show it, so
# the test reads the request log).  Checked there:
#   - the CreateMultipartUpload of the dump and the PutObject of its metadata carry
#     x-amz-server-side-encryption (and -aws-kms-key-id), listed in SignedHeaders,
#     and the server accepted their signatures (which cover the headers' values);
#   - UploadPart, CompleteMultipartUpload, HEAD and GET carry neither;
#   - no setting, no header: nothing is sent;
#   - the check hooks refuse an unknown encryption, a bad key id and a key id
#     without aws:kms; a pair that disagrees after a reload fails the backup with
#     a clear error, and nothing is stored.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $kms = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
my $s3 = RippleTest::S3Server->new(bucket => 'test', record => 1);
my $node = RippleTest::Cluster->new_node('sse', s3 => $s3, prefix => 'sse',
	conf => "ripple_backup.s3_sse = 'aws:kms'\nripple_backup.s3_sse_kms_key_id = '$kms'\n"
	  . "ripple_backup.s3_part_size = '5MB'\nripple_backup.verify_after_backup = off\n");

# a dump larger than one 5 MB part after compression: a multipart upload
$node->safe_psql('postgres', 'CREATE DATABASE big');
$node->safe_psql('big', q{
	CREATE TABLE noise AS
	SELECT g, md5(g || 'a') || md5(g || 'b') || md5(g || 'c') || md5(g || 'd') AS h
	  FROM generate_series(1, 200000) g;
});
$node->safe_psql('postgres', 'CREATE DATABASE small');

sub sse_headers {
	my ($r) = @_;
	return ($r->{headers}{'x-amz-server-side-encryption'}, $r->{headers}{'x-amz-server-side-encryption-aws-kms-key-id'});
}

sub signed_headers {
	my ($r) = @_;
	my ($sh) = ($r->{headers}{authorization} // '') =~ /SignedHeaders=([^,\s]+)/;
	return { map { $_ => 1 } split /;/, $sh // '' };
}

# The requests about $key (the dump) and its metadata, by kind.
sub requests_for {
	my ($key, @req) = @_;
	my %k;
	for my $r (@req) {
		my ($path, $query) = split /\?/, $r->{url}, 2;
		$query //= '';
		next unless $path eq "/test/$key" || $path eq "/test/$key.metadata.json";
		my $meta = $path =~ /\.metadata\.json$/;
		my $kind =
		    $r->{method} eq 'POST' && $query =~ /(?:^|&)uploads(?:=|&|$)/ ? 'create'
		  : $r->{method} eq 'PUT' && $query =~ /partNumber=/ ? 'part'
		  : $r->{method} eq 'POST' && $query =~ /uploadId=/ ? 'complete'
		  : $r->{method} eq 'PUT' ? ($meta ? 'put_metadata' : 'put')
		  : lc $r->{method};
		push @{ $k{$kind} }, $r;
	}
	return \%k;
}

# --- aws:kms with a key id: a multipart dump and its metadata --------------------------
my $id = RippleTest::Cluster::backup_now($node, 'big');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'a backup with s3_sse = aws:kms succeeds');
my $row = RippleTest::Cluster::backup_row($node, $id);
cmp_ok($row->{size_bytes}, '>', 5 * 1024 * 1024, "the dump ($row->{size_bytes} bytes) is larger than one part");
my $key = substr($row->{location}, length('s3://test/'));
my $k = requests_for($key, $s3->requests);

is(scalar @{ $k->{create} // [] }, 1, 'one CreateMultipartUpload for the dump');
cmp_ok(scalar @{ $k->{part} // [] }, '>=', 2, 'at least two UploadPart requests');
is(scalar @{ $k->{complete} // [] }, 1, 'one CompleteMultipartUpload');
is(scalar @{ $k->{put_metadata} // [] }, 1, 'one PutObject of the metadata');
for my $kind ('create', 'put_metadata') {
	my $r = $k->{$kind}[0];
	is_deeply([ sse_headers($r) ], [ 'aws:kms', $kms ], "$kind: x-amz-server-side-encryption: aws:kms and the key id arrived");
	my $signed = signed_headers($r);
	ok($signed->{'x-amz-server-side-encryption'} && $signed->{'x-amz-server-side-encryption-aws-kms-key-id'},
		"$kind: both are in SignedHeaders (the server checked the signature over their values)");
}
for my $kind ('part', 'complete', 'head') {
	my @with = grep { grep { defined } sse_headers($_) } @{ $k->{$kind} // [] };
	is(scalar @with, 0, "$kind: no request carries an SSE header");
}
ok(scalar @{ $k->{head} // [] } >= 1, 'the HEAD before the write was seen too');
{
	my ($rc, $out) = $s3->aws('s3api', 'head-object', '--bucket', 'test', '--key', $key);
	is($rc, 0, 'awscli head-object finds the object');
	note 'HeadObject as s3rver answers it (it keeps no SSE header): '
	  . ($out =~ /ServerSideEncryption/ ? 'shows ServerSideEncryption' : 'no ServerSideEncryption field');
}

# --- AES256, no key id; a stream smaller than a part (a single PutObject) -------------------
$node->append_conf('postgresql.conf', "ripple_backup.s3_sse_kms_key_id = ''\nripple_backup.s3_sse = 'AES256'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_sse', 'AES256');
$id = RippleTest::Cluster::backup_now($node, 'small');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'a backup with s3_sse = AES256 succeeds');
$key = substr(RippleTest::Cluster::backup_row($node, $id)->{location}, length('s3://test/'));
$k = requests_for($key, $s3->requests);
is(scalar @{ $k->{put} // [] }, 1, 'the small dump is one PutObject');
for my $kind ('put', 'put_metadata') {
	my $r = $k->{$kind}[0];
	is_deeply([ sse_headers($r) ], [ 'AES256', undef ], "$kind: AES256, no key id");
	ok(signed_headers($r)->{'x-amz-server-side-encryption'}, "$kind: signed");
}

# --- none: no header ----------------------------------------------------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.s3_sse = ''\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_sse', '');
$id = RippleTest::Cluster::backup_now($node, 'small');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'a backup without s3_sse succeeds');
$key = substr(RippleTest::Cluster::backup_row($node, $id)->{location}, length('s3://test/'));
$k = requests_for($key, $s3->requests);
my @all = map { @$_ } values %$k;
ok(scalar @all >= 3, 'its requests were recorded');
is(scalar(grep { grep { defined } sse_headers($_) } @all), 0, 'none of them carries an SSE header');

# --- the check hooks -----------------------------------------------------------------------------
sub alter_system {
	my ($setting, $value) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ripple_backup.$setting = '$value'");
	return ($rc, $err);
}
my ($rc, $err) = alter_system('s3_sse', 'aes256');
isnt($rc, 0, "s3_sse = 'aes256' is refused");
like($err, qr/invalid S3 server-side encryption "aes256".*DETAIL:  S3 knows AES256 .* and aws:kms .*HINT:  Use '' \(none: the bucket's default\), 'AES256' or 'aws:kms'\./s,
	'with what S3 accepts') or diag $err;
($rc, $err) = alter_system('s3_sse', 'aws:kms:dsse');
isnt($rc, 0, "s3_sse = 'aws:kms:dsse' is refused");
($rc, $err) = alter_system('s3_sse_kms_key_id', 'alias/backups');
isnt($rc, 0, 'a KMS key id while s3_sse is empty is refused');
like($err, qr/ripple_backup\.s3_sse_kms_key_id needs ripple_backup\.s3_sse = 'aws:kms'.*DETAIL:  ripple_backup\.s3_sse is ""\./s,
	'with the reason') or diag $err;
($rc, $err) = alter_system('s3_sse_kms_key_id', "key\nx-amz-acl: public-read");
isnt($rc, 0, 'a key id with a line break is refused');
like($err, qr/invalid S3 KMS key id/, 'as an invalid key id');
($rc, $err) = alter_system('s3_sse', 'aws:kms');
is($rc, 0, "s3_sse = 'aws:kms' is accepted") or diag $err;
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_file_settings WHERE name = 'ripple_backup.s3_sse' AND setting = 'aws:kms' AND error IS NULL AND sourcefile LIKE '%postgresql.auto.conf'"),
	1, 'and written to postgresql.auto.conf');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ripple_backup.s3_sse');

# --- a pair that disagrees after a reload: the backup fails, nothing is stored ----------------
$node->append_conf('postgresql.conf', "ripple_backup.s3_sse = 'aws:kms'\nripple_backup.s3_sse_kms_key_id = '$kms'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_sse_kms_key_id', $kms);
$node->append_conf('postgresql.conf', "ripple_backup.s3_sse = 'AES256'\nripple_backup.destination = 's3://test/disagree'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_sse', 'AES256');
$id = RippleTest::Cluster::backup_now($node, 'small');
is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'AES256 with a KMS key id left set: the backup fails');
like(RippleTest::Cluster::backup_row($node, $id)->{error},
	qr/an S3 KMS key id is set but the server-side encryption is "AES256": a key id needs "aws:kms"/,
	'with the reason');
is(scalar(my @none = $s3->list_keys('disagree/')), 0, 'nothing was stored');

$node->stop;
$s3->stop;
done_testing();
