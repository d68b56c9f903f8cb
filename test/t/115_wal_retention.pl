# 115_wal_retention.pl — retention of base backups and of archived WAL, on a
# cluster archiving with archive_library = 'ripple_backup':
#   - with WAL archived and no base backup, neither the SQL dry run nor the real run
#     (nor ripple-backup prune) deletes any WAL, and the dry run says why;
#   - three base backups at least two seconds apart and a logical backup, a retention
#     of '1 s' and retention_min_keep 0: the dry run keeps the newest base backup
#     (and the logical backup: its own series), would delete the two older base
#     backups and the WAL below the newest one's start segment (the ranges, file
#     counts and bytes shown), and deletes nothing (awscli);
#   - ripple-backup prune --dry-run shows the same WAL rows from the bucket alone;
#   - the real run deletes exactly the expected keys (awscli): the two base backups
#     with their metadata, every WAL file below the start segment with its metadata
#     (on any timeline: a planted timeline-2 segment too), never a .history file;
#     the newest base backup, its WAL and the logical backup stay; the two rows are
#     marked expired; a second run deletes nothing more.
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
my $s3 = RippleTest::S3Server->new(bucket => 'wret');
my $prefix = 'pitr';
my $node = RippleTest::Cluster->new_node('wret', s3 => $s3, prefix => $prefix,
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\narchive_library = 'ripple_backup'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
sub sql { return $node->safe_psql('postgres', $_[0]); }

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

sub switch_segment {
	my $seg = sql("INSERT INTO t SELECT g FROM generate_series(1, 100) g; SELECT pg_walfile_name(pg_current_wal_lsn())");
	sql('SELECT pg_switch_wal()');
	ok(wait_for("$seg archived", sub {
		sql("SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver") eq 't' }),
		"$seg archived");
	return $seg;
}

sub keys_now { return sort $s3->list_keys("$prefix/") }

sub prune {
	my ($dry) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT coalesce(backup_id::text, '-'), coalesce(dbname::text, '-'), action, reason"
		  . " FROM ripple_backup_prune(dry_run => $dry)",
		extra_params => [ '-F', "\x1f" ]);
	return map { my @f = split /\x1f/; { id => $f[0], db => $f[1], action => $f[2], reason => $f[3] } }
	  grep { $_ ne '' } split /\n/, $out;
}

sub cli_prune {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, HOME => $work, RIPPLE_BACKUP_DESTINATION => "s3://wret/$prefix",
		RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint, RIPPLE_BACKUP_S3_URI_STYLE => 'path', $s3->env);
	IPC::Run::run([ $cli, 'prune', @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub wal_rows { return sort map { "$_->{action}: $_->{reason}" } grep { $_->{id} eq '-' && $_->{reason} =~ /^WAL/ } @_; }

ok(wait_for('the incarnation', sub { sql('SELECT count(*) FROM ripple_backup.incarnation') eq '1' }, 60),
	'the launcher publishes the incarnation');
my $inc = sql('SELECT incarnation_id FROM ripple_backup.incarnation');
my $walp = "$prefix/$sysid/$inc/wal/";
sql('CREATE TABLE t (x int)');

# A short retention only while no backup is taken: the launcher applies retention
# after every successful backup.
sub short_retention {
	my ($on) = @_;
	if ($on) {
		sql("ALTER SYSTEM SET ripple_backup.retention = '1 s'");
		sql("ALTER SYSTEM SET ripple_backup.retention_min_keep = 0");
	} else {
		sql("ALTER SYSTEM RESET ripple_backup.retention");
		sql("ALTER SYSTEM RESET ripple_backup.retention_min_keep");
	}
	sql('SELECT pg_reload_conf()');
	my $want = $on ? '1 s' : '30 days';
	is(RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.retention', $want, 10), $want,
		"retention is $want");
}
short_retention(1);
switch_segment() for 1 .. 2;

# --- WAL and no base backup: nothing is deleted -------------------------------------------
{
	my @before = keys_now();
	ok((grep { m{^\Q$walp\E} } @before), 'WAL is archived');
	my @dry = prune('true');
	is_deeply([ wal_rows(@dry) ], [ 'keep: WAL: no base backup is kept, so no WAL is deleted' ],
		'the dry run says no WAL is deleted without a base backup');
	my @real = prune('false');
	is_deeply([ wal_rows(@real) ], [ 'keep: WAL: no base backup is kept, so no WAL is deleted' ], 'so does the real run');
	is_deeply([ keys_now() ], \@before, 'and nothing was deleted (awscli)');
	my ($rc, $out, $err) = cli_prune('--retention', '1s', '--min-keep', '0', '--json');
	is($rc, 0, 'ripple-backup prune exits 0') or diag $err;
	my $doc = eval { decode_json($out) } // [];
	my @rows = grep { $_->{wal} } @$doc;
	is_deeply([ map { "$_->{action}: $_->{reason}" } @rows ], [ 'keep: WAL: no base backup is kept, so no WAL is deleted' ],
		'ripple-backup prune says the same');
	is_deeply([ keys_now() ], \@before, 'and deletes nothing either');
}

# --- three base backups, WAL between them, a logical backup -------------------------------
short_retention(0);
my @base;
for my $i (1 .. 3) {
	my $id = sql('SELECT ripple_backup_base_backup()');
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', "base backup $id succeeded");
	my ($startseg, $key) = split /\|/, sql("SELECT pg_walfile_name(start_lsn), object_key FROM ripple_backup.backups WHERE id = $id");
	push @base, { id => $id, startseg => $startseg, key => $key };
	switch_segment() for 1 .. 2;
	usleep(2_200_000);
}
my $logical = RippleTest::Cluster::backup_now($node, 'postgres');
is(RippleTest::Cluster::wait_backup($node, $logical), 'succeeded', 'a logical backup succeeded');
my $keep_from = substr($base[2]{startseg}, 8);

# a timeline-2 segment below the newest base backup's start (deleted: any timeline) and
# a history file (never deleted), planted with awscli
my $payload = "$work/payload";
RippleTest::S3Server::make_file($payload, 1, 3);
my @planted = ("${walp}00000002/000000020000000000000001.zst", "${walp}00000002/000000020000000000000001.zst.metadata.json",
	"${walp}00000002/00000002.history.zst", "${walp}00000002/00000002.history.zst.metadata.json");
for my $k (@planted) {
	my ($rc, $o, $e) = $s3->aws('s3', 'cp', $payload, "s3://wret/$k");
	is($rc, 0, "planted $k") or diag $e;
}

short_retention(1);
my @before = keys_now();
# what must go: the older base backups' objects, and every WAL object below the newest
# base backup's start segment, on any timeline, except history files
my @want_gone = sort(
	(map { ("$prefix/$_->{key}", "$prefix/$_->{key}.metadata.json") } @base[0, 1]),
	grep {
		m{^\Q$walp\E[0-9A-F]{8}/([0-9A-F]{8})([0-9A-F]{16})[^/]*$}
		  && $2 lt $keep_from
	} @before);
ok(scalar(grep { m{\.history\.zst} } @want_gone) == 0, 'no history file is expected to go');
ok(scalar(grep { m{/0000000100000000[0-9A-F]{8}\.zst$} } @want_gone) >= 4, 'several timeline-1 segments are expected to go');
ok((grep { $_ eq $planted[0] } @want_gone), 'the planted timeline-2 segment is expected to go');
ok((grep { m{\.backup\.zst$} } @want_gone), 'the older base backups\' .backup files are expected to go');
ok((grep { m{^\Q$walp\E00000001/\Q$base[2]{startseg}\E\.zst$} } @before), "the newest base backup's start segment $base[2]{startseg} is archived");

# --- the dry run --------------------------------------------------------------------------
my @dry = prune('true');
my %act = map { ($_->{id} => "$_->{action}: $_->{reason}") } grep { $_->{id} ne '-' } @dry;
is($act{ $base[2]{id} }, 'keep: newest succeeded', 'dry run: the newest base backup is kept');
is($act{ $base[1]{id} }, 'delete: older than retention', 'the second would be deleted');
is($act{ $base[0]{id} }, 'delete: older than retention', 'the first would be deleted');
is($act{$logical}, 'keep: newest succeeded', 'the logical backup is kept: a series of its own');
my @dry_wal = wal_rows(@dry);
my $tl1 = scalar grep { m{^\Q$walp\E00000001/[^/]+\.zst$} } @want_gone;
my ($first1) = map { m{/([0-9A-F]{24})\.zst$} } sort grep { m{^\Q$walp\E00000001/[0-9A-F]{24}\.zst$} } @want_gone;
ok((grep { /^delete: WAL timeline 1: \Q$first1\E \.\. [0-9A-F]{24}\S*, $tl1 files, / } @dry_wal),
	"the dry run shows timeline 1's range from $first1, $tl1 files") or diag explain \@dry_wal;
ok((grep { /^delete: WAL timeline 2: 000000020000000000000001, 1 file, / } @dry_wal), 'and the planted timeline-2 file');
ok((grep { /^keep: WAL from segment \Q$keep_from\E \(on any timeline\) on: needed by base backup $base[2]{id}, the oldest kept$/ } @dry_wal),
	'and what it keeps, and for which base backup');
is_deeply([ keys_now() ], \@before, 'the dry run deleted nothing (awscli)');
note(join("\n", 'dry run:', map { "$_->{id} $_->{db} $_->{action}: $_->{reason}" } @dry));

# --- the CLI's dry run shows the same WAL rows -------------------------------------------
{
	my ($rc, $out, $err) = cli_prune('--dry-run', '--json', '--retention', '1s', '--min-keep', '0');
	is($rc, 0, 'prune --dry-run exits 0') or diag $err;
	my $doc = eval { decode_json($out) } // [];
	my @rows = @$doc;
	is_deeply([ sort map { "$_->{action}: $_->{reason}" } grep { $_->{wal} } @rows ], \@dry_wal,
		'ripple-backup prune --dry-run shows the same WAL decisions as the server');
	my %cact = map { ($_->{backup_id} => $_->{action}) } grep { defined $_->{backup_id} } @rows;
	is(join(',', map { $cact{ $_->{id} } // '?' } @base), 'delete,delete,keep', 'and the same base backup decisions');
	is_deeply([ keys_now() ], \@before, 'and deletes nothing');
	($rc, $out, $err) = cli_prune('--dry-run', '--retention', '1s', '--min-keep', '0');
	like($out, qr/^delete\s+-\s+\(WAL\)\s+-\s+\Q$inc\E\s+WAL timeline 1: /m, 'the table has a (WAL) row');
	like($out, qr/^keep\s+$base[2]{id}\s+\(base backup\)/m, 'and the base backups');
	note("ripple-backup prune --dry-run:\n$out$err");
}

# --- the real run ---------------------------------------------------------------------------
my $log_pos = -s $node->logfile;
my @done = prune('false');
my @after = keys_now();
my %after = map { $_ => 1 } @after;
my @gone = sort grep { !$after{$_} } @before;
is_deeply(\@gone, \@want_gone, 'exactly the expected keys are gone (awscli)')
  or diag explain { gone => \@gone, want => \@want_gone };
ok((grep { m{\.history\.zst$} } @after), 'the history file is kept');
ok($after{"$prefix/$base[2]{key}"} && $after{"$prefix/$base[2]{key}.metadata.json"}, 'the newest base backup is kept');
ok($after{"${walp}00000001/$base[2]{startseg}.zst"}, 'and its start segment');
is(sql("SELECT string_agg(status, ',' ORDER BY id) FROM ripple_backup.backups WHERE id IN ($base[0]{id}, $base[1]{id}, $base[2]{id})"),
	'expired,expired,succeeded', 'the two deleted base backups are marked expired');
ok((grep { /^deleted: WAL timeline 1: / } wal_rows(@done)), 'the real run says which WAL it deleted');
my $log = slurp_file($node->logfile, $log_pos);
like($log, qr/retention deleted 2 base backups \([^)]+\), kept 1/, 'the log says how many base backups went');
like($log, qr/retention deleted WAL timeline 1: /, 'and which WAL');

my @again = prune('false');
ok(!(grep { /^deleted/ } wal_rows(@again)), 'a second run deletes no more WAL');
is_deeply([ keys_now() ], \@after, 'nor anything else');

# --- the CLI and a segment size its labels do not settle ----------------------------------
# A server with 64 MB segments whose only base backup starts in the first segment of a
# 4 GB log: "START WAL LOCATION: 1/2000028 (file 000000010000000100000000)" fits 64 MB
# up to 1 GB segments.  Numbered with 16 MB segments its start is segment 258 and
# the WAL named 000000010000000100000000 (its own start segment) is 256: the CLI
# must delete no WAL of that server rather than guess.
{
	my ($fsys, $finc) = ('999', '00000000000000aa');
	my $meta = "$work/base.metadata.json";
	my ($rc, $o, $e) = $s3->aws('s3', 'cp', "s3://wret/$prefix/$base[2]{key}.metadata.json", $meta);
	is($rc, 0, 'fetched a base backup metadata object') or diag $e;
	my $doc = decode_json(slurp_file($meta));
	$doc->{system_identifier} = $fsys;	# a string in the metadata
	$doc->{incarnation} = $finc;
	$doc->{start_lsn} = '1/2000028';
	$doc->{stop_lsn} = '1/2000138';
	$doc->{backup_label} = "START WAL LOCATION: 1/2000028 (file 000000010000000100000000)\n"
	  . "CHECKPOINT LOCATION: 1/2000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"
	  . "START TIME: 2026-12-01 02:00:00 UTC\nLABEL: x\nSTART TIMELINE: 1\n";
	open(my $fh, '>', $meta) or die $!;
	print $fh encode_json($doc);
	close($fh);
	(my $bname = $base[2]{key}) =~ s{^.*/}{};
	my $fbase = "$prefix/$fsys/$finc/base/$bname";
	my $fwal = "$prefix/$fsys/$finc/wal/00000001/";
	for my $p ([ $payload, $fbase ], [ $meta, "$fbase.metadata.json" ],
		map { ([ $payload, "$fwal$_.zst" ], [ $payload, "$fwal$_.zst.metadata.json" ]) }
		qw(000000010000000100000000 000000010000000100000001)) {
		($rc, $o, $e) = $s3->aws('s3', 'cp', $p->[0], "s3://wret/$p->[1]");
		is($rc, 0, "planted $p->[1]") or diag $e;
	}
	($rc, $o, $e) = cli_prune('--dry-run', '--json', '--retention', '1s', '--min-keep', '0',
		'--system-identifier', $fsys);
	is($rc, 0, 'prune --dry-run of the 64 MB server exits 0') or diag $e;
	my $list = eval { decode_json($o) } // [];
	my @rows = @$list;
	my %bact = map { ($_->{backup_id} => $_->{action}) } grep { defined $_->{backup_id} } @rows;
	is($bact{ $doc->{backup_id} }, 'keep', 'its base backup is kept');
	my @frows = map { "$_->{action}: $_->{reason}" } grep { $_->{wal} && $_->{system_identifier} eq $fsys } @rows;
	ok(!(grep { /^delete/ } @frows), 'no WAL of a server whose segment size is not known is deleted')
	  or diag explain \@frows;
	ok((grep { /^keep: WAL: the WAL segment size is not known/ } @frows), 'and the dry run says why')
	  or diag explain \@frows;
}
done_testing();
