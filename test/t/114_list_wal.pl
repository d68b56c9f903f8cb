# 114_list_wal.pl — `ripple-backup list --wal`: a cluster archiving with
# archive_library = 'ripple_backup', two base backups with WAL between and after
# them, then a standby promoted to timeline 2 that archives its history file, the
# old timeline's .partial segment and new segments under its own incarnation.
#   - before the promotion both base backups are "recoverable from <stop time> to
#     <LastModified of the last segment>, timeline 1" (the time and segment checked
#     against awscli's listing), and the WAL totals (files, bytes) are the listing's;
#   - after it, both reach the last segment of timeline 2 through the history file;
#   - neither list nor list --wal takes a WAL file's metadata object for a backup's;
#   - a segment object deleted after the second base backup's end is a gap for both
#     ("WAL is missing from segment X: recoverable only to <time of X-1>");
#   - the second base backup's start segment deleted: "no WAL archived: not
#     recoverable past the end of the base backup" for it, a gap for the first.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $s3 = RippleTest::S3Server->new(bucket => 'lwal');
my $node = RippleTest::Cluster->new_node('lwal', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\narchive_library = 'ripple_backup'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG)/ } keys %env;
%env = (%env, $s3->env, HOME => $work,
	RIPPLE_BACKUP_DESTINATION => 's3://lwal/pitr',
	RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint,
	RIPPLE_BACKUP_S3_URI_STYLE => 'path');

sub cli {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %env;
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub wait_for {
	my ($what, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 180);
	while (time < $deadline) {
		return 1 if $cond->();
		usleep(200_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

# Writes, switches, and waits until the segment switched away from is archived.
sub switch_segment {
	my ($n) = @_;
	my $seg = $n->safe_psql('postgres', "INSERT INTO t SELECT g FROM generate_series(1, 100) g;"
		  . " SELECT pg_walfile_name(pg_current_wal_lsn())");
	$n->safe_psql('postgres', 'SELECT pg_switch_wal()');
	ok(wait_for("$seg archived", sub {
		$n->safe_psql('postgres', "SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver") eq 't'
	}), $n->name . ": $seg archived");
	return $seg;
}

sub base_backup {
	my $id = $node->safe_psql('postgres', "SELECT ripple_backup_base_backup()");
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', "base backup $id succeeded");
	my ($start, $stop, $startseg, $stopseg) = split /\|/, $node->safe_psql('postgres',
		"SELECT start_lsn, stop_lsn, pg_walfile_name(start_lsn), pg_walfile_name(stop_lsn)"
		  . " FROM ripple_backup.backups WHERE id = $id");
	return { id => $id, start => $start, stop => $stop, startseg => $startseg, stopseg => $stopseg };
}

# WAL objects under the system identifier: { key => [ size, LastModified (seconds, UTC) ] }
sub wal_objects {
	my ($rc, $out, $err) = $s3->aws('s3api', 'list-objects-v2', '--bucket', 'lwal', '--prefix', "pitr/$sysid/",
		'--query', 'Contents[].[Key, Size, LastModified]', '--output', 'text');
	die "list-objects-v2: $err" if $rc;
	my %o;
	for (split /\n/, $out) {
		my ($k, $size, $lm) = split /\t/;
		next unless defined $lm && $k =~ m{^pitr/\d+/[0-9a-f]+/wal/};
		$lm =~ s/\.\d+Z$|Z$|\+00:00$//;
		$o{$k} = [ $size, $lm ];
	}
	return \%o;
}

sub segno { my ($n) = @_; return hex(substr($n, 8, 8)) * 256 + hex(substr($n, 16, 8)); }
sub segname { my ($tli, $s) = @_; return sprintf('%08X%08X%08X', $tli, int($s / 256), $s % 256); }

# The newest archived segment of a timeline (full segments only) and its LastModified.
sub last_segment {
	my ($objs, $tli) = @_;
	my @segs = sort grep { m{/wal/\Q$tli\E/[0-9A-F]{24}\.zst$} } keys %$objs;
	my $k = $segs[-1];
	my ($name) = $k =~ m{/([0-9A-F]{24})\.zst$};
	return ($name, $objs->{$k}[1], $k);
}

sub lastmod_of {
	my ($objs, $name) = @_;
	my ($k) = grep { m{/\Q$name\E\.zst$} } keys %$objs;
	return defined $k ? $objs->{$k}[1] : undef;
}

sub list_wal_json {
	my ($rc, $out, $err) = cli('list', '--wal', '--json');
	is($rc, 0, 'list --wal --json exits 0') or diag $err;
	my $doc = eval { decode_json($out) } // {};
	return { map { ($_->{backup_id} => $_) } @{ $doc->{base_backups} // [] } }, $doc;
}

sub display { my ($iso) = @_; $iso =~ s/T/ /; $iso =~ s/Z$//; return $iso; }
# A consistent base backup recovers at least to its own end, which is recorded after its
# stop segment was archived: the range ends at the later of the two.
sub later { my ($x, $y) = map { display($_) } @_; return $x ge $y ? $x : $y; }

ok(wait_for('the incarnation', sub {
	$node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.incarnation') eq '1' }, 60),
	'the launcher publishes the incarnation');
$node->safe_psql('postgres', 'CREATE TABLE t (x int)');
switch_segment($node);

# --- two base backups, WAL between and after them ------------------------------------
my $b1 = base_backup();
switch_segment($node) for 1 .. 2;
my $b2 = base_backup();
switch_segment($node) for 1 .. 2;

{
	my ($rows, $doc) = list_wal_json();
	my $objs = wal_objects();
	my ($last, $lm) = last_segment($objs, '00000001');
	for my $b ($b1, $b2) {
		my $r = $rows->{ $b->{id} };
		ok($r, "base backup $b->{id} is listed") or next;
		is($r->{status}, 'recoverable', "base backup $b->{id}: recoverable");
		is($r->{first_segment}, $b->{startseg}, "its first segment is its start LSN's ($b->{startseg})");
		is($r->{last_segment}, $last, "it reaches the last archived segment $last");
		is($r->{recoverable_timeline}, 1, 'on timeline 1');
		is(display($r->{recoverable_to}), later($lm, $r->{recoverable_from}), "to that segment's LastModified ($lm)");
		ok($r->{recoverable_from} ge $r->{timestamp}, 'from the end of the base backup, not before its start');
		is($r->{start_lsn}, $b->{start}, 'start_lsn as in the catalog');
		is($r->{stop_lsn}, $b->{stop}, 'stop_lsn as in the catalog');
	}
	my @files = grep { !/\.metadata\.json$/ } keys %$objs;
	my $bytes = 0;
	$bytes += $_->[0] for values %$objs;
	is($doc->{wal}[0]{files}, scalar @files, 'the WAL total counts the archived files (awscli)');
	is($doc->{wal}[0]{bytes}, $bytes, 'and their stored bytes, metadata objects included');
	is($doc->{wal}[0]{segment_size}, 16 * 1024 * 1024, 'segment size 16 MiB, read from the backup_label');
	is($doc->{wal}[0]{segment_size_assumed}, JSON::PP::false, 'not assumed');

	my ($rc, $out, $err) = cli('list', '--wal');
	is($rc, 0, 'list --wal exits 0') or diag $err;
	my $to = display($lm);
	like($out, qr/^\S+ \S+\s+$b1->{id}\s+1\s+\Q$b1->{start}\E\s+\Q$b1->{stop}\E\s+[0-9a-f]{16}\s+recoverable from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \Q$to\E, timeline 1$/m,
		'the table says "recoverable from <stop time> to <time>, timeline 1"');
	like($out, qr/^WAL of system \Q$sysid\E: \d+ files, /m, 'and the WAL total');
	unlike($err, qr/skipping invalid metadata object/, 'no warning about the WAL files\' metadata objects');
	note("list --wal:\n$out");
	($rc, $out, $err) = cli('list');
	is($rc, 0, 'plain list exits 0') or diag $err;
	unlike($err, qr/skipping invalid metadata object/,
		'plain list takes no WAL metadata object for a backup\'s (it warned about each before)');
	like($out, qr/^\S+ \S+\s+\(base backup\)/m, 'and lists the base backups');
}

# --- a standby promoted to timeline 2 --------------------------------------------------
$node->backup('sb');
my $standby = PostgreSQL::Test::Cluster->new('lwal_standby');
$standby->init_from_backup($node, 'sb', has_streaming => 1);
$standby->start;
$node->safe_psql('postgres', 'INSERT INTO t VALUES (-1)');
$node->wait_for_catchup($standby);
$node->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion failed';
ok(wait_for('the standby\'s incarnation', sub {
	$standby->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.incarnation WHERE timeline = 2') eq '1'
}, 120), 'the promoted standby draws an incarnation for timeline 2');
switch_segment($standby) for 1 .. 2;
ok(wait_for('the history file and the .partial', sub {
	my $o = wal_objects();
	(grep { m{/wal/00000002/00000002\.history\.zst$} } keys %$o)
	  && (grep { m{/wal/00000001/[0-9A-F]{24}\.partial\.zst$} } keys %$o);
}, 120), 'the history file and the old timeline\'s .partial segment are archived');

{
	my ($rows) = list_wal_json();
	my $objs = wal_objects();
	my ($last, $lm) = last_segment($objs, '00000002');
	for my $b ($b1, $b2) {
		my $r = $rows->{ $b->{id} };
		is($r->{status}, 'recoverable', "base backup $b->{id}: recoverable across the timeline switch");
		is($r->{recoverable_timeline}, 2, 'to timeline 2');
		is($r->{last_segment}, $last, "to its last segment $last");
		is(display($r->{recoverable_to}), later($lm, $r->{recoverable_from}), 'at its LastModified');
	}
	my ($rc, $out) = cli('list', '--wal');
	like($out, qr/recoverable from \S+ \S+ to \Q@{[display($lm)]}\E, timeline 2$/m, 'the table says timeline 2');
	note("list --wal after the promotion:\n$out");
}

# --- a gap: the segment after the second base backup's stop segment ---------------------
{
	my $objs = wal_objects();
	my $gap = segname(1, segno($b2->{stopseg}) + 1);
	my ($key) = grep { m{/wal/00000001/\Q$gap\E\.zst$} } keys %$objs;
	ok($key, "segment $gap is archived") or diag join("\n", sort keys %$objs);
	my ($rc, $o, $e) = $s3->aws('s3', 'rm', "s3://lwal/$key");
	is($rc, 0, "deleted $gap with awscli") or diag $e;
	my $before = lastmod_of($objs, $b2->{stopseg});
	my ($rows) = list_wal_json();
	for my $b ($b1, $b2) {
		my $r = $rows->{ $b->{id} };
		is($r->{status}, 'gap', "base backup $b->{id}: a gap");
		is($r->{missing_segment}, $gap, "missing from $gap");
		is($r->{last_segment}, $b2->{stopseg}, "recoverable to $b2->{stopseg}");
		is(display($r->{recoverable_to}), later($before, $r->{recoverable_from}),
			'at its LastModified (or the base backup\'s end, if later)');
		is($r->{recoverable_timeline}, 1, 'on timeline 1');
	}
	my ($rc2, $out) = cli('list', '--wal');
	my $to2 = display($rows->{ $b2->{id} }{recoverable_to});
	like($out, qr/^\S+ \S+\s+$b2->{id}\s.*WAL is missing from segment \Q$gap\E: recoverable only to \Q$to2\E, timeline 1$/m,
		'the table says where the WAL is missing and how far it goes');
	note("list --wal with a gap:\n$out");

	# the second base backup's own start segment
	($key) = grep { m{/wal/00000001/\Q$b2->{startseg}\E\.zst$} } keys %$objs;
	($rc, $o, $e) = $s3->aws('s3', 'rm', "s3://lwal/$key");
	is($rc, 0, "deleted $b2->{startseg}") or diag $e;
	($rows) = list_wal_json();
	is($rows->{ $b2->{id} }{status}, 'not_consistent', 'the second base backup is not consistent');
	like($rows->{ $b2->{id} }{description}, qr/^no WAL archived: not recoverable past the end of the base backup/,
		'"no WAL archived: not recoverable past the end of the base backup"');
	is($rows->{ $b2->{id} }{recoverable_to}, undef, 'no recoverable_to');
	is($rows->{ $b1->{id} }{status}, 'gap', 'the first has a gap');
	is($rows->{ $b1->{id} }{missing_segment}, $b2->{startseg}, "from $b2->{startseg}");
	($rc, $out) = cli('list', '--wal');
	like($out, qr/^\S+ \S+\s+$b2->{id}\s.*no WAL archived: not recoverable past the end of the base backup/m,
		'the table says so');
}

# --- no base backup in a destination: exit 3 ---------------------------------------------
{
	local $env{RIPPLE_BACKUP_DESTINATION} = 's3://lwal/empty';
	my ($rc, $out, $err) = cli('list', '--wal');
	is($rc, 3, 'list --wal without a base backup exits 3');
	like($err, qr/no base backup found/, 'and says so');
}
$standby->stop;
done_testing();
