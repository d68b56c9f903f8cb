# 025_two_clusters.pl — two servers that share a system identifier never overwrite
# each other's backups.
#
# A promoted standby keeps its primary's system identifier, and both catalogs hand
# out the same backup ids when their sequences stand at the same value (a clone
# copies the sequence; here setval puts both at the same value, nothing else is
# faked).  Both take a backup of the same database in the same UTC second (the
# test waits for a second boundary and retries until the seconds match), to S3
# (RippleTest::S3Server) and to a shared file:// directory.  Each catalog must
# point at an object of its own whose SHA-256 is the one it recorded, and the
# metadata must say which server incarnation wrote it.
#
# Then never overwrite: objects are placed in advance at every key the next backup
# could take (each second of a window), so the backup finds its key taken; it
# must fail, say so, write nothing and leave the existing object unchanged — the
# cold-copy case that no key can tell apart.  Finally `ripple-backup list` shows
# the incarnation of each backup.
use strict;
use warnings;
use Digest::SHA;
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use POSIX qw(strftime);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $s3 = RippleTest::S3Server->new(bucket => 'test');
my $dir = PostgreSQL::Test::Utils::tempdir('shared');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $prefix = 'two';

my $primary = RippleTest::Cluster->new_node('primary', s3 => $s3, prefix => $prefix,
	init => { allows_streaming => 1 });
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion failed';

my $launchers = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'";
for my $n ($primary, $standby) {
	is(RippleTest::Cluster::poll_value($n, 'postgres', $launchers, '1'), '1', $n->name . ': the launcher runs');
}
my $sysid = $primary->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
is($standby->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'), $sysid,
	'the promoted standby keeps the system identifier');

# Value of a query, or undef when it fails (the query may name what does not exist yet).
sub value {
	my ($node, $sql) = @_;
	my ($rc, $out) = $node->psql('postgres', $sql);
	return $rc == 0 ? $out : undef;
}

# The incarnation id a catalog hands to its backups now (undef when there is none).
sub incarnation {
	my ($node) = @_;
	return value($node, 'SELECT incarnation_id FROM ripple_backup.incarnation');
}

# "20261203T101500Z" and the id from an object key.
sub key_second_and_id {
	my ($key) = @_;
	return $key =~ m{/(\d{8}T\d{6}Z)-(\d+)\.dump(?:\.\w+)?$} ? ($1, $2) : ('', '');
}

# Sleeps until 0.1 s after the next whole second.
sub next_second {
	my $t = time;
	usleep(int((1.1 - ($t - int($t))) * 1_000_000));
}

# Backups of "postgres" on both servers with the same id in the same UTC second.
# Returns the two catalog rows and whether the id and second matched.
sub twin_backups {
	my ($base) = @_;
	for my $attempt (1 .. 5) {
		my $v = $base + 100 * $attempt;
		$_->safe_psql('postgres', "SELECT setval('ripple_backup.backups_id_seq', $v)") for $primary, $standby;
		next_second();
		my $ia = RippleTest::Cluster::backup_now($primary, 'postgres');
		my $ib = RippleTest::Cluster::backup_now($standby, 'postgres');
		RippleTest::Cluster::wait_backup($primary, $ia);
		RippleTest::Cluster::wait_backup($standby, $ib);
		my $ra = RippleTest::Cluster::backup_row($primary, $ia);
		my $rb = RippleTest::Cluster::backup_row($standby, $ib);
		my ($sa) = key_second_and_id($ra->{object_key} // '');
		my ($sb) = key_second_and_id($rb->{object_key} // '');
		return ($ra, $rb, 1) if $ia == $ib && $sa ne '' && $sa eq $sb;
		note("attempt $attempt: ids $ia/$ib, seconds '$sa'/'$sb'; again");
	}
	return (undef, undef, 0);
}

# SHA-256 of a file, or '' when it cannot be read.
sub sha_of {
	my ($path) = @_;
	return -f $path ? Digest::SHA->new(256)->addfile($path)->hexdigest : '';
}

# Local copy of a stored object ("" when missing): $kind is 's3' or 'file'.
my $fetched = 0;
sub local_copy {
	my ($kind, $key) = @_;
	return "$dir/$key" if $kind eq 'file';
	my $to = "$work/fetched." . $fetched++;
	return $s3->fetch_object("$prefix/$key", $to) ? $to : '';
}

sub read_json {
	my ($path) = @_;
	return -f $path ? eval { decode_json(slurp_file($path)) } // {} : {};
}

my %tl = (primary => 1, standby => 2);

sub check_twins {
	my ($kind, $base) = @_;
	my ($ra, $rb, $same) = twin_backups($base);
	ok($same, "$kind: both servers took backup of the same id in the same UTC second")
	  or return;
	my ($sec, $id) = key_second_and_id($ra->{object_key});
	note("$kind: backup $id at $sec: $ra->{object_key} / $rb->{object_key}");
	is($ra->{status}, 'succeeded', "$kind: the primary's backup succeeded");
	is($rb->{status}, 'succeeded', "$kind: the promoted standby's backup succeeded");
	isnt($ra->{object_key}, $rb->{object_key}, "$kind: the two backups have different object keys");
	for my $pair ([ 'primary', $primary, $ra ], [ 'standby', $standby, $rb ]) {
		my ($name, $node, $row) = @$pair;
		my $obj = local_copy($kind, $row->{object_key});
		is(sha_of($obj), $row->{sha256}, "$kind: $name: the object at its key has the SHA-256 its catalog recorded");
		my $meta = read_json(local_copy($kind, "$row->{object_key}.metadata.json"));
		is($meta->{sha256}, $row->{sha256}, "$kind: $name: its metadata names that SHA-256");
		is("" . ($meta->{system_identifier} // ''), $sysid, "$kind: $name: metadata: system identifier");
		is($meta->{timeline}, $tl{$name}, "$kind: $name: metadata: timeline $tl{$name}");
		my $inc = incarnation($node);
		ok(defined $inc && $inc =~ /^[0-9a-f]{16}$/, "$kind: $name: the catalog has an incarnation id");
		is($meta->{incarnation}, $inc, "$kind: $name: metadata: the catalog's incarnation id");
		like($row->{object_key}, qr{^\Q$sysid\E/\Q@{[ $inc // '?' ]}\E/postgres/\d{8}T\d{6}Z-$id\.dump\.zst$},
			"$kind: $name: key is <sysid>/<incarnation>/<db>/<second>-<id>");
		ok(defined $meta->{host_name} && $meta->{host_name} ne '', "$kind: $name: metadata: host name");
	}
	isnt(incarnation($primary) // 'a', incarnation($standby) // 'a', "$kind: the two incarnations differ");
	return $id;
}

# --- S3 --------------------------------------------------------------------------
my $twin_id = check_twins('s3', 1000);
is(value($standby, 'SELECT timeline FROM ripple_backup.incarnation'), '2',
	'the promoted standby renewed its incarnation for timeline 2');

# --- file:// (one directory both servers write to) ---------------------------------
for my $n ($primary, $standby) {
	$n->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.destination = 'file://$dir'");
	$n->reload;
}
check_twins('file', 2000);

# --- never overwrite -----------------------------------------------------------------
# The next backup of the standby will be id N + 1 under the directory of backup N;
# its key's second is when it starts.  Put an object at every second of a window.
sub occupied_key {
	my ($kind) = @_;
	my $id = RippleTest::Cluster::backup_now($standby, 'postgres');
	is(RippleTest::Cluster::wait_backup($standby, $id), 'succeeded', "$kind: a first backup succeeds");
	my $row = RippleTest::Cluster::backup_row($standby, $id);
	(my $kdir = $row->{object_key}) =~ s{/[^/]+$}{};
	my $next = $id + 1;
	my $content = "an object already stored here by another server ($kind)\n";
	my $src = "$work/occupied-$kind";
	make_path($src);
	my $now = time;
	my @names = map { strftime('%Y%m%dT%H%M%SZ', gmtime(int($now) + $_)) . "-$next.dump.zst" } -2 .. 40;
	for my $name (@names) {
		my $path = $kind eq 'file' ? "$dir/$kdir/$name" : "$src/$name";
		open my $fh, '>', $path or die "$path: $!";
		print $fh $content;
		close $fh;
	}
	if ($kind eq 's3') {
		my ($rc, $out, $err) = $s3->aws('s3', 'cp', '--recursive', '--quiet', $src, "s3://test/$prefix/$kdir/");
		is($rc, 0, 's3: the objects are in place') or diag $err;
	}
	my $want = Digest::SHA->new(256)->add($content)->hexdigest;

	my $bid = RippleTest::Cluster::backup_now($standby, 'postgres');
	is($bid, $next, "$kind: the next backup is $next");
	is(RippleTest::Cluster::wait_backup($standby, $bid), 'failed', "$kind: a backup whose key is taken fails");
	my $b = RippleTest::Cluster::backup_row($standby, $bid);
	like($b->{error} // '', qr/already exists/, "$kind: the catalog says why: the object already exists")
	  or diag $b->{error};
	is($b->{location}, undef, "$kind: the failed backup records no location");
	my @changed;
	for my $name (@names) {
		push @changed, $name if sha_of(local_copy($kind, "$kdir/$name")) ne $want;
	}
	is_deeply(\@changed, [], "$kind: every existing object is unchanged (SHA-256 read back)");
	my @meta = $kind eq 'file'
	  ? grep { /-$next\.dump\.zst\.metadata\.json$/ } glob("$dir/$kdir/*")
	  : grep { /-$next\.dump\.zst\.metadata\.json$/ } $s3->list_keys("$prefix/$kdir/");
	is_deeply(\@meta, [], "$kind: no metadata was written for the failed backup");
	my @tmp = grep { !/\.dump\.zst(\.metadata\.json|\.verified|\.verify\.json)?$/ } glob("$dir/$kdir/*");
	is_deeply(\@tmp, [], "$kind: no temporary file is left") if $kind eq 'file';
}
occupied_key('file');
$standby->safe_psql('postgres', "ALTER SYSTEM RESET ripple_backup.destination");
$standby->reload;
occupied_key('s3');

# --- what the S3 test server does with If-None-Match: * ------------------------------------
# s3rver 5.0.0 honours If-None-Match on GET and HEAD only: a conditional PutObject or
# CompleteMultipartUpload over an existing key replaces it (AWS S3 answers 412).  So
# against it the HEAD before a write is the check that keeps an object (above).
{
	my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
	my @base = ($s3tool, '--endpoint', $s3->endpoint, '--bucket', 'test', '--path-style',
		'--part-size', '5K', '--max-attempts', '1');
	my %env = (%ENV, $s3->env);
	my $run = sub {
		my ($args, $in) = @_;
		my ($out, $err) = ('', '');
		local %ENV = %env;
		IPC::Run::run([ @base, @$args ], '<', \($in // ''), '>', \$out, '2>', \$err);
		return ($? >> 8, $err);
	};
	my $f1 = "$work/inm1";
	my $f2 = "$work/inm2";
	open my $fh, '>', $f1 or die; print $fh "first\n"; close $fh;
	open $fh, '>', $f2 or die; print $fh "second\n"; close $fh;
	my ($rc, $err) = $run->([ 'put', 'inm/k', $f1 ]);
	is($rc, 0, 's3rver: a first object') or diag $err;
	($rc, $err) = $run->([ '--if-absent', 'put', 'inm/k', $f2 ]);
	is($rc, 0, 's3rver ignores If-None-Match: * on PutObject (no 412)') or diag $err;
	$s3->fetch_object('inm/k', "$work/inm.got");
	is(sha_of("$work/inm.got"), Digest::SHA->new(256)->add("second\n")->hexdigest,
		'... and replaces the object');
	($rc, $err) = $run->([ '--if-absent', 'upload', 'inm/k' ], 'x' x 12000);
	is($rc, 0, 's3rver ignores If-None-Match: * on CompleteMultipartUpload (no 412)') or diag $err;
	$s3->fetch_object('inm/k', "$work/inm.got");
	is(-s "$work/inm.got", 12000, '... and replaces the object');
}

# --- ripple-backup list shows the incarnation ---------------------------------------------
my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
{
	my %env = (%ENV, HOME => $work, RIPPLE_BACKUP_DESTINATION => "s3://test/$prefix",
		RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint, RIPPLE_BACKUP_S3_URI_STYLE => 'path', $s3->env);
	my ($out, $err) = ('', '');
	{
		local %ENV = %env;
		IPC::Run::run([ $cli, 'list' ], '<', \undef, '>', \$out, '2>', \$err);
	}
	is($? >> 8, 0, 'list exits 0') or diag $err;
	my @lines = split /\n/, $out;
	like($lines[0] // '', qr/\bINCARNATION\b/, 'list: an INCARNATION column');
	for my $n ($primary, $standby) {
		my $inc = incarnation($n) // 'none';
		ok((grep { /\b\Q$inc\E\b/ } @lines) > 0, 'list shows the incarnation of the ' . $n->name);
	}
	($out, $err) = ('', '');
	{
		local %ENV = %env;
		IPC::Run::run([ $cli, 'list', '--json' ], '<', \undef, '>', \$out, '2>', \$err);
	}
	my $list = eval { decode_json($out) } // [];
	my %incs = map { ($_->{incarnation} // '') => 1 } @$list;
	ok($incs{ incarnation($standby) // 'none' } && $incs{ incarnation($primary) // 'none' },
		'list --json: the incarnation of each backup');
	my ($one) = grep { defined $_->{timeline} } @$list;
	ok(defined $one, 'list --json: the timeline of each backup');

	# the id both servers used names two backups: the CLI must not pick one
	($out, $err) = ('', '');
	{
		local %ENV = %env;
		IPC::Run::run([ $cli, 'info', $twin_id // 0 ], '<', \undef, '>', \$out, '2>', \$err);
	}
	is($? >> 8, 2, "info $twin_id (an id of both servers) exits 2");
	like($err, qr/backup id \d+ is ambiguous: it exists for several systems or server incarnations/,
		'... calling the id ambiguous');
}

$standby->stop;
$primary->stop;
done_testing();
