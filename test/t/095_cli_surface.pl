# 095_cli_surface.pl — what ripple-backup shows a DBA, against backups the extension
# took to the S3 test server:
#   - sizes: src/core's rb_format_bytes (the server's log and the CLI) prints what
#     pg_size_pretty prints, for a range of values; the server's log line and the
#     CLI's SIZE column agree with pg_size_pretty(size_bytes);
#   - labels with a newline, a tab or a control byte are escaped, and a long one is
#     cut with an ellipsis, in list's table; --json keeps them exact;
#   - each backup's verification is written beside it (<key>.verify.json, also when
#     it fails) and shown by list and info; "latest" never picks a backup that
#     failed verification, "latest-verified" picks the newest verified one;
#   - -v shows each S3 request (method, key, status, time) and each retry;
#   - verify --json and restore --json give status, times and the row-count verdict;
#   - -h is help in every command, restore included; --host has no short form.
use strict;
use warnings;
use Encode ();
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $format_bytes = "$ENV{RIPPLE_SRC}/build/tools/format_bytes";
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $s3 = RippleTest::S3Server->new(bucket => 'surface');
my $node = RippleTest::Cluster->new_node('surface', s3 => $s3, prefix => 'b',
	conf => "ripple_backup.verify_after_backup = off\n");
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 3000);

my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG)/ } keys %env;
%env = (%env, $s3->env, HOME => $work,
	RIPPLE_BACKUP_DESTINATION => 's3://surface/b',
	RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint,
	RIPPLE_BACKUP_S3_URI_STYLE => 'path');

sub cli {
	my ($args, %extra) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%env, %extra);
	IPC::Run::run([ $cli, @$args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub sql { return $node->safe_psql('postgres', $_[0]); }

# --- one size convention: rb_format_bytes = pg_size_pretty --------------------------
{
	my @values = (0, 1, 999, 1000, 1023, 1024, 10239, 10240, 10241, 10752, 10753, 20479, 20480,
		1048575, 1048576, 10485247, 10485248, 10485759, 10485760, 20971519, 20971520,
		1073741823, 1073741824, 10737418239, 10737418240, 21474836479, 21474836480,
		1099511627775, 1099511627776, 10995116277759, 10995116277760, 22517998136852479,
		22517998136852480, 1125899906842623, 1125899906842624, 9223372036854775807);
	my $x = 7;
	for (1 .. 60) {    # and spread values of every magnitude
		$x = ($x * 6364136223846793005 + 1442695040888963407) % 9223372036854775807;
		push @values, int($x / (10**(($_ % 18)))) if $x > 0;
	}
	my ($out, $err) = ('', '');
	IPC::Run::run([ $format_bytes, @values ], '<', \undef, '>', \$out, '2>', \$err);
	is($? >> 8, 0, 'format_bytes runs') or diag $err;
	my @ours = split /\n/, $out;
	my @pg = split /\n/, sql('SELECT pg_size_pretty(v) FROM unnest(ARRAY['
		  . join(',', @values) . ']::bigint[]) WITH ORDINALITY AS u(v, n) ORDER BY n');
	is(scalar(@ours), scalar(@values), 'one size per value');
	my @differ = grep { ($ours[$_] // '') ne ($pg[$_] // '') } 0 .. $#values;
	is(scalar(@differ), 0, 'rb_format_bytes prints what pg_size_pretty prints for ' . scalar(@values) . ' values')
	  or diag join("\n", map { "$values[$_]: ours '$ours[$_]', pg_size_pretty '$pg[$_]'" } @differ);
	like(join(' ', @ours[0 .. 12]), qr/^0 bytes 1 bytes .* 10239 bytes 10 kB /, 'small values are bytes, then kB at 10240');
}

# --- backups with odd labels (queued and waited for with wait => true) -----------------
my $log_offset = -s $node->logfile;
my $odd = "line1\nline2\ttab\x01ctl";
my $long = ('x' x 30) . ('é' x 30);
my $b1 = sql(q{SELECT ripple_backup_now('app', label => E'line1\nline2\ttab\x01ctl', wait => true)});
like($b1, qr/^\d+$/, 'ripple_backup_now(wait => true) returns the id of the backup it waited for');
my $b2 = sql("SELECT ripple_backup_now('app', label => repeat('x', 30) || repeat('é', 30), wait => true)");
my $b3 = sql("SELECT ripple_backup_now('app', label => 'plain', wait => true)");
is(sql("SELECT string_agg(status, ',' ORDER BY id) FROM ripple_backup.backups WHERE id IN ($b1, $b2, $b3)"),
	'succeeded,succeeded,succeeded', 'three backups succeeded');

# the server's log and the CLI give the size as pg_size_pretty does
{
	my $pretty = sql("SELECT pg_size_pretty(size_bytes) FROM ripple_backup.backups WHERE id = $b3");
	my $log = slurp_file($node->logfile, $log_offset);
	like($log, qr/backup $b3 of database "app" succeeded: \Q$pretty\E in [\d.]+ s/,
		"the server's log gives the size as pg_size_pretty does ($pretty)");
	my ($rc, $out, $err) = cli([ 'info', $b3 ]);
	like($out, qr/^size:\s+\Q$pretty\E \(\d+ bytes, zstd\)$/m, 'info gives the same size');
	my $pretty_archive = sql("SELECT pg_size_pretty(uncompressed_bytes) FROM ripple_backup.backups WHERE id = $b3");
	like($out, qr/^archive size:\s+\Q$pretty_archive\E \(/m, 'and the archive size as pg_size_pretty does');
}

# --- list: labels escaped and cut in the table, exact in --json -------------------------
{
	my ($rc, $out, $err) = cli([ 'list' ]);
	is($rc, 0, 'list exits 0') or diag $err;
	my @lines = split /\n/, $out;
	is(scalar(@lines), 4, 'list: a header and one line per backup: no label breaks a line');
	like($out, qr/^.*\s$b1\s+[0-9a-f]{16}\s+line1\\nline2\\ttab\\x01ctl$/m,
		'list: newline, tab and control byte shown as \n, \t, \x01');
	my $shown = ('x' x 30) . ('é' x 9) . '…';
	like($out, qr/^.*\s$b2\s+[0-9a-f]{16}\s+\Q$shown\E$/m, 'list: a 60-character label cut to 40 with an ellipsis');
	unlike($out, qr/\x01|\t/, 'list: no raw control byte or tab in the table');
	($rc, $out, $err) = cli([ 'list', '--json' ]);
	my %by_id = map { ($_->{backup_id} => $_) } @{ decode_json($out) };
	is($by_id{$b1}{label}, $odd, 'list --json keeps the label exact');
	is($by_id{$b2}{label}, Encode::decode_utf8($long), 'list --json keeps the long label whole');
	($rc, $out, $err) = cli([ 'info', $b1 ]);
	like($out, qr/^label:\s+line1\\nline2\\ttab\\x01ctl$/m, 'info shows the label escaped, on one line');
}

# --- verification status beside the backup -------------------------------------------
my %keys = map { my $r = RippleTest::Cluster::backup_row($node, $_); ($_ => "b/$r->{object_key}") } ($b1, $b2, $b3);
{
	my ($rc, $out, $err) = cli([ 'list', '--json' ]);
	my %by_id = map { ($_->{backup_id} => $_) } @{ decode_json($out) };
	is($by_id{$b1}{verify_status}, 'unverified', 'before any verification: unverified');
	is($by_id{$b1}{verification}, undef, '... and no verification record');

	is(sql("SELECT ripple_backup_verify($b1, 'restore')"), 'verified', 'backup 1 verified at restore level');
	ok($s3->fetch_object("$keys{$b1}.verify.json", "$work/v1.json"), 'the verifier wrote <key>.verify.json');
	my $rec = decode_json(slurp_file("$work/v1.json"));
	is($rec->{status}, 'verified', 'record: status verified');
	is($rec->{level}, 'restore', 'record: level restore');
	is($rec->{rows}, 'match', 'record: the row counts matched');
	is($rec->{backup_id}, $b1, 'record: the backup id');
	like($rec->{verified_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'record: the time');
	ok($rec->{restore_seconds} > 0, 'record: the restore time');
	is(sql("SELECT ripple_backup_verify($b2, 'checksum')"), 'verified', 'backup 2 verified at checksum level');
	ok($s3->fetch_object("$keys{$b2}.verify.json", "$work/v2.json"), 'record of backup 2');
	is(decode_json(slurp_file("$work/v2.json"))->{rows}, 'not compared', 'the checksum level compares no rows');

	# the newest backup is corrupted: its verification fails, and that is recorded too
	ok($s3->fetch_object($keys{$b3}, "$work/obj"), 'backup 3 read back');
	open my $fh, '+<:raw', "$work/obj" or die;
	seek $fh, 100, 0;
	read $fh, my $byte, 1;
	seek $fh, 100, 0;
	print $fh chr(ord($byte) ^ 0x80);
	close $fh;
	is(($s3->aws('s3', 'cp', "$work/obj", "s3://surface/$keys{$b3}"))[0], 0, 'backup 3 replaced by a corrupted copy');
	is(sql("SELECT ripple_backup_verify($b3, 'checksum')"), 'failed', 'backup 3 fails verification');
	ok($s3->fetch_object("$keys{$b3}.verify.json", "$work/v3.json"), 'a failed verification is recorded beside the backup');
	$rec = decode_json(slurp_file("$work/v3.json"));
	is($rec->{status}, 'failed', 'record: status failed');
	like($rec->{error}, qr/^checksum mismatch for /, 'record: the error');

	($rc, $out, $err) = cli([ 'list' ]);
	like($out, qr/^TIME \(UTC\)\s+DATABASE\s+SIZE\s+TABLES\s+ROWS\s+VERIFY\s+ID\s/m, 'list: a VERIFY column');
	like($out, qr/\srestore\s+$b1\s/, 'list: backup 1 verified at restore level');
	like($out, qr/\schecksum\s+$b2\s/, 'list: backup 2 verified at checksum level');
	like($out, qr/\sFAILED \(checksum\)\s+$b3\s/, 'list: backup 3 failed');
	($rc, $out, $err) = cli([ 'list', '--json' ]);
	%by_id = map { ($_->{backup_id} => $_) } @{ decode_json($out) };
	is($by_id{$b3}{verify_status}, 'failed', 'list --json: failed');
	is($by_id{$b1}{verification}{level}, 'restore', 'list --json: the record');
	($rc, $out, $err) = cli([ 'info', $b1 ]);
	like($out, qr/^verification:\s+verified at level restore, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(row counts: match\)$/m,
		'info: the verification');
	like($out, qr/^restore time:\s+[\d.]+ s/m, 'info: the measured restore time');
	($rc, $out, $err) = cli([ 'info', $b3 ]);
	like($out, qr/^verification:\s+failed at level checksum/m, 'info: the failed verification');
	like($out, qr/^verify error:\s+checksum mismatch for /m, 'info: its error');

	# latest skips the backup known bad; latest-verified takes the newest verified one
	($rc, $out, $err) = cli([ 'info', 'latest', '--json' ]);
	is($rc, 0, 'info latest exits 0') or diag $err;
	is(decode_json($out)->{backup_id}, $b2, 'latest is the newest backup not known bad (not the failed newest)');
	is(sql("SELECT ripple_backup_verify($b2, 'checksum')"), 'verified', 'backup 2 verified again');
	sql("UPDATE ripple_backup.backups SET verify_status = 'unverified' WHERE id = $b2");
	$s3->aws('s3', 'rm', "s3://surface/$keys{$b2}.verify.json");
	($rc, $out, $err) = cli([ 'info', 'latest-verified', '--json' ]);
	is($rc, 0, 'info latest-verified exits 0') or diag $err;
	is(decode_json($out)->{backup_id}, $b1, 'latest-verified is the newest verified backup');
	($rc, $out, $err) = cli([ 'info', 'latest', '--json' ]);
	is(decode_json($out)->{backup_id}, $b2, 'latest takes an unverified backup');
	($rc, $out, $err) = cli([ 'verify', 'latest' ]);
	is($rc, 0, 'verify latest checks a good backup, not the failed newest') or diag $err;
	($rc, $out, $err) = cli([ 'info', $b3 ]);
	is($rc, 0, 'a failed backup is still reachable by its id');
	($rc, $out, $err) = cli([ 'info', 'latest-verified', '--db', 'postgres' ]);
	is($rc, 3, 'no verified backup of a database: exit 3');
	like($err, qr/no (verified )?backup of database "postgres"/, '... with a clear message');
}

# --- -v: each S3 request and each retry -------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'info', $b1, '-v' ]);
	is($rc, 0, 'info -v exits 0');
	like($err, qr{s3: GET \Q$keys{$b1}\E\.metadata\.json: 200 in \d+ ms \(attempt 1\)}, '-v shows the GET, its key, status and time');
	($rc, $out, $err) = cli([ 'info', $b1 ]);
	unlike($err, qr/s3: GET/, 'without -v no request is shown');

	# a server that answers 503 SlowDown once, then an empty listing
	my $sock = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
	  or die "listen: $!";
	my $pid = fork;
	if ($pid == 0) {
		my $n = 0;
		while (my $c = $sock->accept) {
			my $hdr = '';
			while (defined(my $l = <$c>)) { $hdr .= $l; last if $l eq "\r\n"; }
			my ($code, $xml) = $n++ == 0
			  ? ('503 Slow Down', '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>')
			  : ('200 OK', '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>surface</Name><Prefix>b/</Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>');
			print $c "HTTP/1.1 $code\r\nContent-Type: application/xml\r\nContent-Length: " . length($xml)
			  . "\r\nConnection: close\r\n\r\n$xml";
			close $c;
		}
		POSIX::_exit(0);
	}
	($rc, $out, $err) = cli([ 'list', '-v' ], RIPPLE_BACKUP_S3_ENDPOINT => 'http://127.0.0.1:' . $sock->sockport);
	kill 'KILL', $pid;
	waitpid $pid, 0;
	is($rc, 3, 'list through a server that refused once: no backups (exit 3)');
	like($err, qr/s3: GET list of surface: 503 in \d+ ms \(attempt 1\)/, '-v shows the refused request');
	like($err, qr/s3: GET list of surface failed: 503 SlowDown.*; retrying in [\d.]+ s \(attempt 2 of \d+\)/,
		'-v shows the retry');
	like($err, qr/s3: GET list of surface: 200 in \d+ ms \(attempt 2\)/, '-v shows the retried request and its status');
}

# --- verify --json and restore --json -------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'verify', $b1, '--json' ]);
	is($rc, 0, 'verify --json exits 0') or diag $err;
	my $r = decode_json($out);
	is($r->{status}, 'verified', 'verify --json: status');
	is($r->{backup_id}, $b1, 'verify --json: the backup');
	is($r->{sha256_ok}, JSON::PP::true, 'verify --json: the checksum');
	ok($r->{seconds}{download} >= 0 && defined $r->{seconds}{total}, 'verify --json: the times');
	is($r->{rows}{verdict}, 'not compared', 'verify --json: no rows compared without --archive');

	($rc, $out, $err) = cli([ 'verify', $b1, '--archive', '--json', '--work-dir', $work ]);
	is($rc, 0, 'verify --archive --json exits 0') or diag $err;
	$r = decode_json($out);
	is($r->{rows}{verdict}, 'match', 'verify --archive --json: the archive\'s row counts match');
	is($r->{rows}{rows_expected}, $r->{rows}{rows_found}, '... rows expected = rows found');
	ok($r->{rows}{tables} >= scalar(keys %$expected), '... for every table');

	($rc, $out, $err) = cli([ 'verify', $b3, '--json' ]);
	is($rc, 4, 'verify --json of the corrupted backup exits 4');
	$r = decode_json($out);
	is($r->{status}, 'failed', 'verify --json: failed');
	is($r->{exit_code}, 4, 'verify --json: the exit code');
	like($r->{error}, qr/sha256|checksum/i, 'verify --json: the error');

	($rc, $out, $err) = cli([ 'restore', $b1, '--dbname', 'app_restored', '--create', '--json',
		'--host', $node->host, '--port', $node->port, '--work-dir', $work ]);
	is($rc, 0, 'restore --json (with --host, no short form) exits 0') or diag $err;
	$r = decode_json($out);
	is($r->{status}, 'restored', 'restore --json: status');
	is($r->{target_dbname}, 'app_restored', 'restore --json: the target');
	is($r->{rows}{verdict}, 'match', 'restore --json: the row counts match');
	is($r->{rows}{tables_differing}, 0, 'restore --json: no table differs');
	is($r->{rows}{rows_found}, $r->{rows}{rows_expected}, 'restore --json: rows found = rows expected');
	ok($r->{seconds}{pg_restore} > 0 && $r->{seconds}{download} >= 0 && $r->{seconds}{row_counts} >= 0
		  && $r->{seconds}{total} >= $r->{seconds}{pg_restore}, 'restore --json: the time of each step');
	is_deeply(RippleTest::Cluster::count_rows($node, 'app_restored', $expected), $expected,
		'the restored database has every row');

	# a restore that fails: into a database that already holds the tables
	($rc, $out, $err) = cli([ 'restore', $b1, '--dbname', 'app_restored', '--json',
		'--host', $node->host, '--port', $node->port, '--work-dir', $work ]);
	isnt($rc, 0, 'restore --json into a database that already holds the tables fails');
	$r = decode_json($out);
	is($r->{status}, 'failed', 'restore --json: failed');
	ok(defined $r->{error} && length $r->{error}, 'restore --json: the error') or diag $out;
}

# --- -h is help everywhere; --host has no short form ---------------------------------------
for my $cmd (qw(list info fetch verify restore prune report keygen wal-fetch restore-pitr)) {
	my ($rc, $out, $err) = cli([ $cmd, '-h' ]);
	is($rc, 0, "$cmd -h exits 0");
	like($out, qr/^ripple-backup $cmd: /, "$cmd -h prints the help of $cmd");
}
{
	my ($rc, $out, $err) = cli([ 'restore', 'latest', '-h', '/tmp', '--dbname', 'x' ]);
	is($rc, 0, 'restore ... -h /tmp is help, not a host');
	like($out, qr/^ripple-backup restore: /, '... the help of restore');
	like($out, qr/^  --host HOST\s/m, 'the help names --host without a short form');
	unlike($out, qr/-h, --host/, 'no "-h, --host"');
	($rc, $out, $err) = cli(['-h']);
	is($rc, 0, '-h alone is the overview');
}

$node->stop;
$s3->stop;
done_testing();
