# 020_pipeline.pl — the backup pipeline of src/core (rb_backup_run, driven by
# test/tools/backup_run.c) against a real cluster, before and beside the extension:
# pgbench tables plus odd ones (schema with a dot, a table name with spaces and
# quotes, text with newlines/tabs/backslashes, an empty table, a partitioned table,
# large objects) backed up to file:// and to s3:// (the S3 test server), read back
# as a user would (the file, awscli), checked against the SHA-256 and size reported,
# decompressed with the zstd CLI, restored with pg_restore into new databases whose
# per-table counts must equal the counts the parser took from the stream (and the
# source's).  Then failures: pg_dump killed mid-run (signal message, nothing left at
# the key, no temporary file), pg_dump failing (its stderr in the error), a bad URL.
use strict;
use warnings;
use Digest::SHA;
use File::Temp qw(tempdir);
use IPC::Run qw(run start pump finish timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use RippleTest::S3Server;

my $tool = "$ENV{RIPPLE_SRC}/build/tools/backup_run";
my $tmp = tempdir('pipeline_XXXX', TMPDIR => 1, CLEANUP => 1);

my $node = PostgreSQL::Test::Cluster->new('pipeline');
$node->init;
$node->start;
my $bindir = $node->config_data('--bindir');
my $pg_dump = "$bindir/pg_dump";

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->command_ok([ 'pgbench', '-i', '-s', '1', '-q', '-h', $node->host, '-p', $node->port, 'src' ],
	'pgbench -i -s 1');
$node->safe_psql('src', q{
CREATE SCHEMA "odd.schema";
CREATE TABLE "odd.schema"."Table ""With"" Spaces" (v int);
INSERT INTO "odd.schema"."Table ""With"" Spaces" SELECT g FROM generate_series(1, 77) g;
CREATE TABLE public.texty (id int, body text);
INSERT INTO public.texty VALUES (1, E'line one\nline two'), (2, E'tab\there'),
  (3, E'back\\slash'), (4, E'\\.'), (5, NULL), (6, E'crlf\r\n');
CREATE TABLE public.empty_one (id int);
CREATE TABLE public.measure (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE public.measure_a PARTITION OF public.measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.measure_b PARTITION OF public.measure FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO public.measure SELECT DATE '2025-06-01' + (g % 400), g FROM generate_series(1, 900) g;
SELECT lo_from_bytea(0, '\x0a0a0a'::bytea);
});

# Source counts of every table with rows of its own (not the partitioned parent).
my %source = counts($node, 'src');

sub counts {
	my ($n, $db) = @_;
	my $list = $n->safe_psql($db, q{
SELECT format('%s.%s', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1});
	my %c;
	for my $t (split /\n/, $list) {
		my ($s, $r) = $t =~ /^(odd\.schema|[^.]+)\.(.*)$/;
		$c{"$s.$r"} = $n->safe_psql($db, sprintf('SELECT count(*) FROM %s.%s', quote_ident($s), quote_ident($r)));
	}
	return %c;
}

sub quote_ident { my $s = shift; $s =~ s/"/""/g; return qq{"$s"}; }

# Turns a metadata/backup_run key ("schema.table", quoted where needed) into "schema.table" raw.
sub raw_key {
	my $k = shift;
	my @parts;
	while (length $k) {
		if ($k =~ s/^"((?:[^"]|"")*)"//) { (my $p = $1) =~ s/""/"/g; push @parts, $p; }
		elsif ($k =~ s/^([^."]+)//) { push @parts, $1; }
		$k =~ s/^\.//;
	}
	return join('.', @parts);
}

# Runs backup_run; returns (exit code, %fields, stdout, stderr).
sub backup_run {
	my (%o) = @_;
	my @cmd = ($tool, '--dbname', $o{dbname} // 'src', '--host', $node->host, '--port', $node->port,
		'--pg-dump', $o{pg_dump} // $pg_dump, '--dest', $o{dest}, '--id', $o{id} // 1,
		'--sysid', '7312345678901234567', @{ $o{args} // [] });
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %{ $o{env} // {} });
	run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	my (%f, %rows);
	for (split /\n/, $out) {
		if (/^rows (.*) (\d+)$/) { $rows{ raw_key($1) } = $2; }
		elsif (/^(\w+)=(.*)$/) { $f{$1} = $2; }
	}
	$f{rows} = \%rows;
	return ($rc, \%f, $out, $err);
}

sub slurp { local $/; open my $fh, '<', $_[0] or die "$_[0]: $!"; binmode $fh; my $d = <$fh>; close $fh; return $d; }

# Restores an uncompressed archive into a new database; returns its counts.
sub restore_counts {
	my ($archive, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($out, $err) = ('', '');
	run([ "$bindir/pg_restore", '-h', $node->host, '-p', $node->port, '-d', $db, '--exit-on-error', $archive ],
		'>', \$out, '2>', \$err);
	is($?, 0, "pg_restore into $db succeeds") or diag $err;
	return counts($node, $db);
}

sub check_counts {
	my ($what, $parsed, $restored) = @_;
	is_deeply($parsed, \%source, "$what: the parser's counts equal the source's, table by table");
	is_deeply($restored, $parsed, "$what: the restored database's counts equal the parser's");
}

ok(keys(%source) >= 9, 'source has the pgbench tables and the odd ones');
is($source{'public.pgbench_accounts'}, 100000, 'pgbench_accounts has 100000 rows');

# --- file:// with zstd ---------------------------------------------------------------
my ($rc, $f, $out, $err) = backup_run(dest => "file://$tmp/dest", id => 11);
is($rc, 0, 'backup to file:// succeeds') or diag $err;
like($f->{key}, qr{^7312345678901234567/0000000000000001/src/\d{8}T\d{6}Z-11\.dump\.zst$}, 'object key has the documented shape');
is($f->{url}, "file://$tmp/dest/$f->{key}", 'url is the full file:// URL');
my $obj = "$tmp/dest/$f->{key}";
ok(-f $obj, 'the object exists');
is(-s $obj, $f->{size_bytes}, 'size_bytes is the size of the stored file');
is(Digest::SHA->new(256)->addfile($obj)->hexdigest, $f->{sha256}, 'sha256 is the SHA-256 of the stored file');
is(slurp($obj) =~ /^\x28\xb5\x2f\xfd/ ? 1 : 0, 1, 'the object is a zstd frame');
my @leftovers = glob("$tmp/dest/*/*/.*.tmp-*");
is(scalar(@leftovers), 0, 'no temporary file remains') or diag "@leftovers";

my $meta = decode_json(slurp("$obj.metadata.json"));
is($meta->{sha256}, $f->{sha256}, 'metadata sha256 matches');
is($meta->{size_bytes}, $f->{size_bytes}, 'metadata size_bytes matches');
is($meta->{system_identifier}, '7312345678901234567', 'metadata system_identifier');
is($meta->{pg_dump_format}, 'custom', 'metadata pg_dump_format');
is($meta->{compression}, 'zstd', 'metadata compression');
is_deeply({ map { raw_key($_) => $meta->{table_counts}{$_} } keys %{ $meta->{table_counts} } },
	$f->{rows}, 'metadata table_counts equal the counts reported');
ok(exists $meta->{table_counts}{'"odd.schema"."Table ""With"" Spaces"'}, 'a name with a dot and quotes is a quoted key');

run([ 'zstd', '-q', '-d', '-o', "$tmp/file.dump", $obj ], '2>', \$err);
is($?, 0, 'zstd CLI decompresses the object') or diag $err;
is(-s "$tmp/file.dump", $f->{bytes_read}, 'decompressed size equals the bytes read from pg_dump');
check_counts('file://', $f->{rows}, { restore_counts("$tmp/file.dump", 'restored_file') });
is($node->safe_psql('restored_file', 'SELECT count(*) FROM pg_largeobject_metadata'), 1, 'the large object is restored');
is($node->safe_psql('restored_file', 'SELECT body FROM texty WHERE id = 1'), "line one\nline two",
	'text with a newline survives');

# --- file:// with gzip ---------------------------------------------------------------
($rc, $f, $out, $err) = backup_run(dest => "file://$tmp/dest", id => 12, args => [ '--compression', 'gzip' ]);
is($rc, 0, 'gzip backup succeeds') or diag $err;
like($f->{key}, qr{-12\.dump\.gz$}, 'gzip key ends in .dump.gz');
run([ 'gzip', '-t', "$tmp/dest/$f->{key}" ], '2>', \$err);
is($?, 0, 'gzip -t accepts the object') or diag $err;

# --- s3:// with zstd, then uncompressed in several multipart parts ---------------------
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my %s3env = $s3->env;
my @s3args = ('--s3-endpoint', $s3->endpoint, '--s3-uri-style', 'path');

($rc, $f, $out, $err) = backup_run(dest => 's3://backups/team/prod', id => 21, env => \%s3env, args => \@s3args);
is($rc, 0, 'backup to s3:// succeeds') or diag $err;
is($f->{url}, "s3://backups/team/prod/$f->{key}", 'url is the full s3:// URL');
my $s3key = "team/prod/$f->{key}";
ok($s3->fetch_object($s3key, "$tmp/s3.dump.zst"), 'awscli reads the object back');
ok($s3->fetch_object("$s3key.metadata.json", "$tmp/s3.meta.json"), 'awscli reads the metadata back');
is(-s "$tmp/s3.dump.zst", $f->{size_bytes}, 'S3 object size equals size_bytes');
is(Digest::SHA->new(256)->addfile("$tmp/s3.dump.zst")->hexdigest, $f->{sha256}, 'S3 object SHA-256 equals sha256');
$meta = decode_json(slurp("$tmp/s3.meta.json"));
is($meta->{sha256}, $f->{sha256}, 'S3 metadata sha256 matches');
run([ 'zstd', '-q', '-d', '-o', "$tmp/s3.dump", "$tmp/s3.dump.zst" ], '2>', \$err);
is($?, 0, 'zstd CLI decompresses the S3 object') or diag $err;
check_counts('s3://', $f->{rows}, { restore_counts("$tmp/s3.dump", 'restored_s3') });

# 1 MiB parts (s3rver accepts parts below S3's 5 MiB minimum): a stream of ~10 MB goes
# up as a multipart upload of ~10 parts (s3rver's ETag does not show the part count;
# test/t/010_s3_client.pl checks the part arithmetic of the upload itself).
($rc, $f, $out, $err) = backup_run(dest => 's3://backups/raw', id => 22, env => \%s3env,
	args => [ @s3args, '--compression', 'none', '--s3-part-size', 1024 * 1024, '--s3-small-parts' ]);
is($rc, 0, 'uncompressed backup to s3:// in 1 MiB parts succeeds') or diag $err;
ok($f->{size_bytes} > 5 * 1024 * 1024, 'the uncompressed object spans more than five parts');
is($f->{size_bytes}, $f->{bytes_read}, 'uncompressed: stored bytes equal bytes read');
my ($arc, $head) = $s3->aws('s3api', 'head-object', '--bucket', 'backups', '--key', "raw/$f->{key}");
is($arc, 0, 'head-object finds the object');
like($head, qr/"ContentLength": $f->{size_bytes},/, 'head-object reports size_bytes');
ok($s3->fetch_object("raw/$f->{key}", "$tmp/raw.dump"), 'awscli reads the uncompressed object');
is(Digest::SHA->new(256)->addfile("$tmp/raw.dump")->hexdigest, $f->{sha256}, 'its SHA-256 matches');
check_counts('s3:// multipart', $f->{rows}, { restore_counts("$tmp/raw.dump", 'restored_raw') });

# --- pg_dump killed in the middle of the run ------------------------------------------
# A wrapper that records pg_dump's pid and execs it (the pid stays pg_dump's);
# --slow-ms holds the pipeline so that the kill lands while data is flowing.
my $wrapper = "$tmp/pg_dump_wrapper";
open my $wfh, '>', $wrapper or die;
print $wfh "#!/bin/sh\necho \$\$ > '$tmp/pg_dump.pid'\nexec '$pg_dump' \"\$@\"\n";
close $wfh;
chmod 0755, $wrapper;

for my $case ([ 'file://', "file://$tmp/killed", {} , [] ], [ 's3://', 's3://backups/killed', \%s3env, \@s3args ]) {
	my ($label, $dest, $env, $extra) = @$case;
	unlink "$tmp/pg_dump.pid";
	my ($kout, $kerr) = ('', '');
	my @cmd = ($tool, '--dbname', 'src', '--host', $node->host, '--port', $node->port, '--pg-dump', $wrapper,
		'--dest', $dest, '--id', 31, '--sysid', '1', '--key', 'k/killed.dump.zst', '--progress', '--slow-ms', '150',
		@$extra);
	local %ENV = (%ENV, %$env);
	my $h = start(\@cmd, '<', \undef, '>', \$kout, '2>', \$kerr, timeout(120));
	my $read_so_far;
	pump $h until (($read_so_far) = $kerr =~ /^progress ([1-9]\d*) /m) || !$h->pumpable;
	ok(defined $read_so_far && $read_so_far > 0, "$label: pg_dump's data was flowing when it was killed");
	my $pid = slurp("$tmp/pg_dump.pid");
	chomp $pid;
	ok(kill('KILL', $pid), "$label: pg_dump (pid $pid) killed");
	finish $h;
	is($h->result(0), 1, "$label: backup_run fails");
	like($kerr, qr/^error: pg_dump was terminated by signal 9: Killed$/m, "$label: the error names the signal")
	  or diag $kerr;
	if ($label eq 'file://') {
		ok(!-e "$tmp/killed/k/killed.dump.zst", 'file://: nothing at the key');
		ok(!-e "$tmp/killed/k/killed.dump.zst.metadata.json", 'file://: no metadata');
		my @tmpfiles = glob("$tmp/killed/k/.*.tmp-*");
		is(scalar(@tmpfiles), 0, 'file://: the temporary file is gone') or diag "@tmpfiles";
	}
	else {
		my @keys = $s3->list_keys('killed/');
		is(scalar(@keys), 0, 's3://: nothing under the prefix') or diag "@keys";
	}
}

# --- pg_dump fails; bad destination -----------------------------------------------------
($rc, $f, $out, $err) = backup_run(dest => "file://$tmp/failed", dbname => 'no_such_db', args => [ '--key', 'x/f.dump.zst' ]);
is($rc, 1, 'a backup of a missing database fails');
like($err, qr/^error: pg_dump exited with code 1: pg_dump: error: .*database "no_such_db" does not exist/m,
	"pg_dump's stderr is in the error") or diag $err;
ok(!-e "$tmp/failed/x/f.dump.zst", 'nothing at the key after a pg_dump failure');
is(scalar(my @g = glob("$tmp/failed/x/.*.tmp-*")), 0, 'no temporary file after a pg_dump failure');

($rc, $f, $out, $err) = backup_run(dest => 'ftp://host/x');
is($rc, 1, 'a bad destination URL fails');
like($err, qr/^error: invalid destination "ftp:\/\/host\/x": scheme must be s3:\/\/ or file:\/\//m, 'with a clear message');

$s3->stop;
$node->stop;
done_testing();
