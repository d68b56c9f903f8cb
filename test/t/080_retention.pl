# 080_retention.pl — retention against the S3 test server and a directory.
#
# Two servers share one bucket and prefix and one system identifier (a primary
# and its promoted standby, as in 025).  The primary takes 6 backups of
# "postgres" at least two seconds apart, pins the second, and gets a short
# retention ('1 s', counted from its newest good backup) with min_keep 2:
#   - the dry run keeps the newest verified backup, one by min_keep and the
#     pinned one, would delete the three others and the planted orphan, and
#     deletes nothing (checked with awscli);
#   - `ripple-backup prune --dry-run` decides the same from the bucket alone
#     (pins and verifications through their marker objects), for both servers;
#   - the real run deletes exactly those objects (awscli), marks the rows
#     expired, logs one line, never touches the standby's objects or an object
#     that is not shaped like a backup;
#   - after a failing streak (a wrong S3 secret), a retention that counts from
#     now would expire the second newest backup; counted from the newest good
#     one it is kept, and nothing is deleted;
#   - unpinned, the pinned backup goes at the launcher's automatic run after the
#     next successful backup;
#   - the standby's own prune deletes only its own objects.
# Then the same rules on a file:// destination.
use strict;
use warnings;
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $s3 = RippleTest::S3Server->new(bucket => 'test');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $prefix = 'ret';
my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";

my $primary = RippleTest::Cluster->new_node('primary', s3 => $s3, prefix => $prefix,
	init => { allows_streaming => 1 });
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion failed';

my $sysid = $primary->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

sub incarnation {
	my ($node) = @_;
	return RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM ripple_backup.incarnation WHERE timeline = (SELECT timeline_id FROM pg_control_checkpoint())", '1')
	  eq '1' ? $node->safe_psql('postgres', 'SELECT incarnation_id FROM ripple_backup.incarnation') : undef;
}

# Takes a backup of "postgres"; returns its catalog row.  Waits so that the next
# backup's second is at least two seconds later (ages beyond a '1 s' retention).
sub backup {
	my ($node) = @_;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres');
	my $st = RippleTest::Cluster::wait_backup($node, $id);
	is($st, 'succeeded', $node->name . ": backup $id succeeded");
	usleep(2_200_000);
	return RippleTest::Cluster::backup_row($node, $id);
}

sub settle_verifications {
	my ($node) = @_;
	is(RippleTest::Cluster::poll_value($node, 'postgres',
			"SELECT count(*) FROM ripple_backup.backups WHERE status = 'succeeded' AND verify_status <> 'verified'",
			'0', 120), '0', $node->name . ': every backup is verified');
}

sub set_conf {
	my ($node, %set) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.$_ = '$set{$_}'") for sort keys %set;
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	for my $k (sort keys %set) {
		RippleTest::Cluster::poll_value($node, 'postgres', "SHOW ripple_backup.$k", $set{$k}, 10);
	}
}

# The prune rows: [ { id, db, action, reason } ... ] and a printable table.
sub prune {
	my ($node, $dry) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT coalesce(backup_id::text, '-'), coalesce(dbname::text, '-'), action, reason"
		  . " FROM ripple_backup_prune(dry_run => $dry)",
		extra_params => [ '-F', "\x1f" ]);
	my @rows = map { my @f = split /\x1f/; { id => $f[0], db => $f[1], action => $f[2], reason => $f[3] } }
	  grep { $_ ne '' } split /\n/, $out;
	return @rows;
}

sub table_of {
	my ($node, $dry) = @_;
	return $node->safe_psql('postgres',
		"SELECT backup_id, dbname, finished_at, action, reason FROM ripple_backup_prune(dry_run => $dry)",
		extra_params => [ '-P', 'format=aligned', '-P', 'tuples_only=off' ]);
}

sub keys_now { return sort $s3->list_keys("$prefix/") }

sub decisions {
	my (@rows) = @_;
	return join("\n", map { "$_->{id} $_->{action}: $_->{reason}" } sort { $a->{id} cmp $b->{id} } @rows);
}

my $inc_a = incarnation($primary);
my $inc_b = incarnation($standby);
ok(defined $inc_a && defined $inc_b && $inc_a ne $inc_b, 'the two servers have their own incarnations');

# --- six backups on the primary, two on the standby ------------------------------------
my @b = map { backup($primary) } 1 .. 6;
my @s = map { backup($standby) } 1 .. 2;
settle_verifications($_) for $primary, $standby;
my %id = map { ("B$_" => $b[ $_ - 1 ]{id}) } 1 .. 6;

is($primary->safe_psql('postgres', "SELECT ripple_backup_pin($id{B2})"), 't', 'ripple_backup_pin pins');
is($primary->safe_psql('postgres', "SELECT pinned FROM ripple_backup.backups WHERE id = $id{B2}"), 't',
	'pinned shows in ripple_backup.backups');
ok((grep { $_ eq "$prefix/$b[1]{object_key}.pinned" } keys_now()), 'the pin marker is stored beside the dump');
ok((grep { $_ eq "$prefix/$b[5]{object_key}.verified" } keys_now()), 'a verified backup has its verification marker');

# orphans: a dump without metadata under each server's prefix, and an object that is not
# shaped like a backup (never touched)
my $orphan_a = "$sysid/$inc_a/postgres/20200101T000000Z-999999.dump.zst";
my $orphan_b = "$sysid/$inc_b/postgres/20200101T000000Z-999998.dump.zst";
my $notes = "$sysid/$inc_a/postgres/notes.txt";
my $payload = "$work/payload";
RippleTest::S3Server::make_file($payload, 1, 7);
for my $k ($orphan_a, $orphan_b, $notes) {
	my ($rc, $o, $e) = $s3->aws('s3', 'cp', $payload, "s3://test/$prefix/$k");
	is($rc, 0, "planted $k") or diag $e;
}
sleep 2;

set_conf($_, retention => '1 s', retention_min_keep => '2', retention_orphan_age => '1 s')
  for $primary, $standby;

# --- dry run ----------------------------------------------------------------------------
my @before = keys_now();
my @dry = prune($primary, 'true');
my %want = (
	$id{B6} => 'keep: newest verified',
	$id{B5} => 'keep: min_keep',
	$id{B4} => 'delete: older than retention',
	$id{B3} => 'delete: older than retention',
	$id{B2} => 'keep: pinned',
	$id{B1} => 'delete: older than retention',
	'-'     => "delete: orphan $orphan_a",
);
is(decisions(@dry), decisions(map { my ($act, $r) = split /: /, $want{$_}, 2; { id => $_, action => $act, reason => $r } } keys %want),
	'dry run: the newest verified, min_keep and pinned are kept; three old backups and the orphan would go');
my $dry_table = table_of($primary, 'true');
note("dry run on the primary:\n$dry_table");
is_deeply([ keys_now() ], \@before, 'the dry run deleted nothing');

# --- the CLI decides the same from the bucket alone ---------------------------------------
sub cli_prune {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, HOME => $work, RIPPLE_BACKUP_DESTINATION => "s3://test/$prefix",
		RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint, RIPPLE_BACKUP_S3_URI_STYLE => 'path', $s3->env);
	IPC::Run::run([ $cli, 'prune', @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}
{
	my ($rc, $out, $err) = cli_prune('--dry-run', '--json', '--retention', '1s', '--min-keep', '2',
		'--orphan-age', '1s');
	is($rc, 0, 'prune --dry-run exits 0') or diag $err;
	my $rows = eval { decode_json($out) } // [];
	for my $pair ([ $primary, $inc_a ], [ $standby, $inc_b ]) {
		my ($node, $inc) = @$pair;
		my @mine = map { { id => $_->{backup_id} // '-', action => $_->{action}, reason => $_->{reason} } }
		  grep { ($_->{incarnation} // '') eq $inc || ($_->{key} =~ m{/\Q$inc\E/} && !defined $_->{backup_id}) } @$rows;
		is(decisions(@mine), decisions(prune($node, 'true')),
			'ripple-backup prune --dry-run lists the same decisions as the SQL dry run of the ' . $node->name);
	}
	is_deeply([ keys_now() ], \@before, 'the CLI dry run deleted nothing');
	($rc, $out, $err) = cli_prune('--dry-run', '--retention', '1s', '--min-keep', '2', '--orphan-age', '1s');
	like($out, qr/^ACTION\s+ID\s+DATABASE/m, 'prune prints a table');
	note("ripple-backup prune --dry-run:\n$out$err");
}

# --- the real run -------------------------------------------------------------------------
my $log_pos = -s $primary->logfile;
my @done = prune($primary, 'false');
is(join(',', sort map { $_->{id} } grep { $_->{action} eq 'deleted' } @done),
	join(',', sort ($id{B1}, $id{B3}, $id{B4}, '-')), 'prune deleted B1, B3, B4 and the orphan');
my %left = map { $_ => 1 } keys_now();
for my $n (1 .. 6) {
	my $k = "$prefix/$b[$n - 1]{object_key}";
	my $gone = $n == 1 || $n == 3 || $n == 4;
	for my $suffix ('', '.metadata.json', '.verified', '.verify.json') {
		is(!$left{"$k$suffix"}, $gone, "B$n$suffix " . ($gone ? 'deleted' : 'kept') . ' (awscli)');
	}
	is($primary->safe_psql('postgres',
			"SELECT status || ' ' || (expired_at IS NOT NULL) FROM ripple_backup.backups WHERE id = $b[$n - 1]{id}"),
		$gone ? 'expired true' : 'succeeded false', "B$n row: " . ($gone ? 'expired, with expired_at' : 'succeeded'));
}
ok(!$left{"$prefix/$orphan_a"}, 'the orphan of the primary is deleted');
ok($left{"$prefix/$orphan_b"}, "the standby's orphan is not the primary's to delete");
ok($left{"$prefix/$notes"}, 'an object not shaped like a backup is never touched');
ok($left{"$prefix/$_->{object_key}"} && $left{"$prefix/$_->{object_key}.metadata.json"},
	"the standby's backup $_->{id} is untouched") for @s;
my $log = slurp_file($primary->logfile, $log_pos);
like($log, qr/ripple_backup: retention deleted 3 backups of "postgres" \(\d+ (?:bytes|kB|MB)\), kept 3/,
	'one log line for the run');
like($log, qr/ripple_backup: retention deleted 1 orphaned object/, 'and one for the orphans');
like($log, qr/cannot list or abort multipart uploads \(501\)/,
	'the server without ListMultipartUploads is logged, and the run carries on');
note('DeleteObjects: ' . ($log =~ /does not support DeleteObjects/ ? 'not supported, single DELETEs' : 'supported (one batch request)'));
is(scalar(grep { $_->{action} eq 'deleted' } prune($primary, 'false')), 0, 'a second run deletes nothing more');

# --- a failing streak never shortens what can be restored ---------------------------------
my ($sec5) = $b[4]{object_key} =~ m{/(\d{8}T\d{6}Z)-};
my ($sec6) = $b[5]{object_key} =~ m{/(\d{8}T\d{6}Z)-};
my $gap = $primary->safe_psql('postgres',
	"SELECT extract(epoch FROM to_timestamp('$sec6', 'YYYYMMDD\"T\"HH24MISS\"Z\"') - to_timestamp('$sec5', 'YYYYMMDD\"T\"HH24MISS\"Z\"'))::int");
my $ret = $gap + 1;
{
	my $bad = $primary->basedir . '/bad_credentials';
	open my $fh, '>', $bad or die;
	print $fh "[default]\naws_access_key_id = S3RVER\naws_secret_access_key = wrong\n";
	close $fh;
	my $good = $primary->safe_psql('postgres', 'SHOW ripple_backup.s3_credentials_file');
	set_conf($primary, s3_credentials_file => $bad);
	for (1 .. 2) {
		my $id = RippleTest::Cluster::backup_now($primary, 'postgres');
		is(RippleTest::Cluster::wait_backup($primary, $id), 'failed', "failing streak: backup $id failed");
	}
	set_conf($primary, s3_credentials_file => $good, retention => "$ret s", retention_min_keep => '1');
	my $age5 = $primary->safe_psql('postgres',
		"SELECT extract(epoch FROM now() - to_timestamp('$sec5', 'YYYYMMDD\"T\"HH24MISS\"Z\"'))::int");
	cmp_ok($age5, '>', $ret, "B5 is older than the retention ($ret s) counted from now ($age5 s)");
	my %d = map { $_->{id} => "$_->{action}: $_->{reason}" } prune($primary, 'true');
	is($d{ $id{B5} }, 'keep: within retention', 'counted from the newest good backup, B5 is within retention');
	is($d{ $id{B6} }, 'keep: newest verified', 'B6 stays the newest verified');
	is($d{ $id{B2} }, 'keep: pinned', 'the pinned backup survives');
	my @k = keys_now();
	is(scalar(grep { $_->{action} eq 'deleted' } prune($primary, 'false')), 0, 'after the streak nothing is deleted');
	is_deeply([ keys_now() ], \@k, '... and the bucket is unchanged');
}

# --- unpinned, the launcher's run after the next backup deletes it ------------------------
is($primary->safe_psql('postgres', "SELECT ripple_backup_pin($id{B2}, false)"), 'f', 'unpin');
ok(!(grep { $_ eq "$prefix/$b[1]{object_key}.pinned" } keys_now()), 'the pin marker is gone');
$log_pos = -s $primary->logfile;
my $b7 = backup($primary);
is(RippleTest::Cluster::poll_value($primary, 'postgres',
		"SELECT status FROM ripple_backup.backups WHERE id = $id{B2}", 'expired', 60),
	'expired', 'the launcher applied retention after the successful backup: B2 expired');
like(slurp_file($primary->logfile, $log_pos), qr/retention deleted 1 backup of "postgres"/,
	'the launcher logged its run');
%left = map { $_ => 1 } keys_now();
ok(!$left{"$prefix/$b[1]{object_key}"}, 'B2 is gone from the bucket');
ok($left{"$prefix/$_->{object_key}"}, "backup $_->{id} is kept") for $b[4], $b[5], $b7;

# --- the standby prunes its own ---------------------------------------------------------
set_conf($standby, retention_min_keep => '1');
my @sd = prune($standby, 'false');
is(join(',', sort map { $_->{id} } grep { $_->{action} eq 'deleted' } @sd), join(',', sort($s[0]{id}, '-')),
	'the standby deletes its older backup and its orphan');
%left = map { $_ => 1 } keys_now();
ok(!$left{"$prefix/$s[0]{object_key}"} && !$left{"$prefix/$orphan_b"}, '... gone from the bucket');
ok($left{"$prefix/$s[1]{object_key}"}, "... its newest is kept");
ok($left{"$prefix/$_->{object_key}"} && $left{"$prefix/$_->{object_key}.metadata.json"},
	"the primary's backup $_->{id} is untouched by the standby") for $b[4], $b[5], $b7;

# --- a file:// destination ------------------------------------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir('files');
my $fnode = RippleTest::Cluster->new_node('files', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
my @f = map { backup($fnode) } 1 .. 3;
my $fsys = $fnode->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
my $finc = incarnation($fnode);
my $forphan = "$fsys/$finc/postgres/20200101T000000Z-777.dump.zst";
{
	make_path("$dir/$fsys/$finc/postgres");
	open my $fh, '>', "$dir/$forphan" or die;
	print $fh "x" x 100;
	close $fh;
	utime(time - 3 * 86400, time - 3 * 86400, "$dir/$forphan");
}
set_conf($fnode, retention => '1 s', retention_min_keep => '1');
my %fd = map { $_->{id} => "$_->{action}: $_->{reason}" } prune($fnode, 'true');
is($fd{ $f[2]{id} }, 'keep: newest succeeded', 'file: nothing verified: the newest succeeded is kept');
is($fd{ $f[1]{id} }, 'delete: older than retention', 'file: the older ones would go');
is($fd{'-'}, "delete: orphan $forphan", 'file: the orphan (older than a day) would go');
ok(-f "$dir/$f[0]{object_key}" && -f "$dir/$forphan", 'file: the dry run deleted nothing');
my @fdone = prune($fnode, 'false');
is(scalar(grep { $_->{action} eq 'deleted' } @fdone), 3, 'file: two backups and the orphan deleted');
for my $n (0, 1) {
	ok(!-e "$dir/$f[$n]{object_key}" && !-e "$dir/$f[$n]{object_key}.metadata.json", "file: backup $f[$n]{id}'s files are gone");
}
ok(-f "$dir/$f[2]{object_key}" && -f "$dir/$f[2]{object_key}.metadata.json", 'file: the newest is kept');
ok(!-e "$dir/$forphan", 'file: the orphan is gone');
is($fnode->safe_psql('postgres', "SELECT string_agg(status, ',' ORDER BY id) FROM ripple_backup.backups"),
	'expired,expired,succeeded', 'file: rows marked expired');

$fnode->stop;
$standby->stop;
$primary->stop;
done_testing();
